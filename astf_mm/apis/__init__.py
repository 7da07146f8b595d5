from .inference import (add_stream_args, chunk_windows, frames_to_tensor,
                        stream_enhance, tensor_to_frames)

__all__ = [
    'add_stream_args', 'chunk_windows', 'frames_to_tensor', 'stream_enhance',
    'tensor_to_frames'
]
