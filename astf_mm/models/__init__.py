from .astf_model import ASTF
from .enhance_net import EnhanceNet
from .fusion import ASTFFusion

__all__ = ['ASTF', 'ASTFFusion', 'EnhanceNet']
