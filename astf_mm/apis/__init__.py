from .inference import (add_astf_model_args, add_cfg_options_arg,
                        add_device_arg, add_stream_args, chunk_windows,
                        frames_to_tensor, stream_enhance, tensor_to_frames)

__all__ = [
    'add_astf_model_args', 'add_cfg_options_arg', 'add_device_arg',
    'add_stream_args', 'chunk_windows', 'frames_to_tensor', 'stream_enhance',
    'tensor_to_frames'
]
