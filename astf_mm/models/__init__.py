from .astf_model import ASTF
from .enhance_net import EnhanceNet
from .fusion import ASTFFusion
from .losses import CharbonnierLPIPSLoss, LPIPSLoss

__all__ = [
    'ASTF', 'ASTFFusion', 'CharbonnierLPIPSLoss', 'EnhanceNet', 'LPIPSLoss'
]
