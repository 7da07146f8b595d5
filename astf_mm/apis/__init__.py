from .inference import frames_to_tensor, stream_enhance, tensor_to_frames
from .inferencer import ASTFInferencer
from .model_loading import init_astf_model, init_generator

__all__ = [
    'ASTFInferencer', 'frames_to_tensor', 'init_astf_model', 'init_generator',
    'stream_enhance', 'tensor_to_frames'
]
