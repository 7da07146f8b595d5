from .astf_model import ASTF
from .edvr_same_size import EDVRSameSizeNet
from .enhance_net import EnhanceNet
from .fusion import ASTFFusion
from .losses import CharbonnierLPIPSLoss, FramePSNRLoss, LPIPSLoss
from .pad_to_min_size import PadToMinSize
from .weight_init import CheckedPretrainedInit

__all__ = [
    'ASTF', 'ASTFFusion', 'CharbonnierLPIPSLoss', 'CheckedPretrainedInit',
    'EDVRSameSizeNet', 'EnhanceNet', 'FramePSNRLoss', 'LPIPSLoss',
    'PadToMinSize'
]
