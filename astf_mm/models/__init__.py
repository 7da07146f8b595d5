from .enhance_net import EnhanceNet

__all__ = ['EnhanceNet']
