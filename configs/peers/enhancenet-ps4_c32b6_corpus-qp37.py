# Our EnhanceNet alone as the BasicVSR-without-upsampler baseline: the stage-1
# network (paper sec. 3.1) with the shipped sample weights, scored as a peer
# on the sample validation videos:
#   python tools/test.py configs/peers/enhancenet-ps4_c32b6_corpus-qp37.py
# At the paper's width use the LDV stage-1 config the same way
# (configs/astf/stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37.py).
_base_ = [
    '../astf/sample/stage1_enhancenet-ps4_c32b6_1xb4-20k_corpus-qp37.py',
    '../_base_/row_metrics.py',
]

experiment_name = 'enhancenet-ps4_c32b6_corpus-qp37'
work_dir = f'./work_dirs/{experiment_name}'

checkpoint = 'checkpoints/sample/stage1_enhancenet-ps4_c32b6_corpus-qp37.pth'
load_from = checkpoint

test_dataloader = _base_.sample_val_dataloader
# the metrics of the ASTF configs' rows, one row here
test_evaluator = dict(
    _delete_=True, type='Evaluator', metrics=_base_.row_metrics)
