from .inference import (chunk_windows, frames_to_tensor, stream_enhance,
                        tensor_to_frames)

__all__ = [
    'chunk_windows', 'frames_to_tensor', 'stream_enhance', 'tensor_to_frames'
]
