from .astf_model import ASTF
from .enhance_net import EnhanceNet
from .fusion import ASTFFusion
from .losses import CharbonnierLPIPSLoss, LPIPSLoss
from .weight_init import CheckedPretrainedInit

__all__ = [
    'ASTF', 'ASTFFusion', 'CharbonnierLPIPSLoss', 'CheckedPretrainedInit',
    'EnhanceNet', 'LPIPSLoss'
]
