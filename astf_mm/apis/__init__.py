from .inference import frames_to_tensor, stream_enhance, tensor_to_frames
from .model_loading import init_astf_model, init_generator

__all__ = [
    'frames_to_tensor', 'init_astf_model', 'init_generator',
    'stream_enhance', 'tensor_to_frames'
]
