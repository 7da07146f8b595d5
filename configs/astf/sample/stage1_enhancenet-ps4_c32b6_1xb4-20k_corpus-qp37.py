# Stage 1 at sample scale on the training corpus built by
#   python tools/data/build_corpus.py            # -> data/corpus, data/heldout
# (371 training clips of 12 frames: 299 from photographs filmed with
# camera-like motion and from real clips, 72 exposure variants; validation
# on 8 clips of sources no training clip comes from; the held-out set is
# never used here). 1/4-resolution propagation buys a wider and deeper
# network for the CPU time.
# The loss is MSE, not the paper's Charbonnier: at this scale Charbonnier
# with the paper's eps stays at the identity (the conditional median of the
# correction is ~0), MSE moves (issue 15's calibration: +0.02 dB on unseen
# footage after 800 iterations).
# The LDV configs keep the paper's recipe, and so does the optimisation
# here except where it stayed at the identity: a first run of this config
# (lr 5e-4, zero-initialised last layer) was still the identity after 1000
# iterations (validation +0.000 dB; diagnostics on training batches: MSE
# ratio to the input's 1.000 after 200 iterations, last-layer weights
# ~5e-4). Issue 15's calibration moved with lr 2e-3 and a randomly
# initialised last layer, so this config uses those.
# The network (`_base_/models/enhancenet-ps4_c32b6.py`) feeds the input
# frame to the full-resolution head (lq_to_head); the training corpus
# includes the exposure-variant clips (`build_corpus.py --exposure-variants
# 4`, 72 clips), which taught it dark and bright footage.
# Its iteration 5000 is the first phase of the shipped stage 1; the second
# is stage1_enhancenet-ps4_c32b6_1xb4-hue-2000_corpus-qp37.py (hue
# variants).
# Resumable:
#   python tools/train.py CONFIG --resume
_base_ = [
    './stage1_enhancenet-ps4_c16b2_1xb4-1000_sample-qp37.py',
    '../../_base_/models/enhancenet-ps4_c32b6.py',
]

experiment_name = 'stage1_enhancenet-ps4_c32b6_1xb4-20k_corpus-qp37'
work_dir = f'./work_dirs/{experiment_name}'

data_root = 'data/corpus'
crop_size = 128
max_iters = 20_000
val_interval = 250

model = dict(
    generator=dict(_base_.enhancenet_ps4_c32b6, zero_init_residual=False),
    pixel_loss=dict(
        _delete_=True, type='MSELoss', loss_weight=1.0, reduction='mean'))

# The base pipeline with 128-pixel crops (a list is replaced, not merged).
train_pipeline = [
    dict(step, gt_patch_size=crop_size)
    if step['type'] == 'PairedRandomCrop' else step
    for step in _base_.train_pipeline
]

train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=2e-3))
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
param_scheduler = dict(periods=[max_iters], restart_weights=[1])
default_hooks = dict(
    checkpoint=dict(interval=val_interval, max_keep_ckpts=2))
