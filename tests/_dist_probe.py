"""A hook for the 2-process test: each rank writes a digest of its weights."""
import hashlib
import os.path as osp

from mmagic.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook


@HOOKS.register_module()
class RankWeightsDigestHook(Hook):
    """Write ``rank{r}.digest`` with a sha256 of the generator weights."""

    def after_train(self, runner) -> None:
        model = runner.model
        model = getattr(model, 'module', model)
        digest = hashlib.sha256()
        for key, value in sorted(model.state_dict().items()):
            digest.update(key.encode())
            digest.update(value.detach().cpu().numpy().tobytes())
        with open(osp.join(runner.work_dir, f'rank{get_rank()}.digest'),
                  'w') as f:
            f.write(digest.hexdigest())
