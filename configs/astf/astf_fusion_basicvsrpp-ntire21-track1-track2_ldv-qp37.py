# ASTF over two restorers: BasicVSR++'s NTIRE 2021 decompression checkpoints
# from the OpenMMLab model zoo take the refiners' places, fused by ASTF's
# mask and sharpened:
#   EnhanceNet1 (the perceptual output, used where the texture mask is high)
#     <- track 2 (fixed QP, perceptual quality);
#   EnhanceNet2 (the output the mask is computed from, used in smooth areas)
#     <- track 1 (fixed QP, fidelity).
# Both tracks were trained on compressed frames, so there is no stage 1: the
# refiners take the compressed input directly (stage1=None).
# Download the two checkpoints (URLs below, from mmagic's
# configs/basicvsr_pp/metafile.yml) to the paths below, then
#   python tools/test.py configs/astf/<this file>
# The sha256 pins are left out: OpenMMLab's file names carry only the first
# 8 hex digits of the digest (7b2eba02, eeae05e6); the digest of the file
# read is logged, pin it with model.enhancenet1.init_cfg.sha256=... once
# checked. Frames must be at least 256 x 256 (BasicVSR++'s SPyNet runs on
# 1/4-size frames). Any other pair of same-size mmagic generators fits the
# same way.
_base_ = './astf_fusion_c64b30_ldv-qp37.py'

experiment_name = 'astf_fusion_basicvsrpp-ntire21-track1-track2_ldv-qp37'
work_dir = f'./work_dirs/{experiment_name}'

zoo = 'https://download.openmmlab.com/mmediting/restorers/basicvsr_plusplus/'
track1_url = (zoo + 'basicvsr_plusplus_c128n25_ntire_decompress_track1_'
              '20210223-7b2eba02.pth')
track2_url = (zoo + 'basicvsr_plusplus_c128n25_ntire_decompress_track2_'
              '20210314-eeae05e6.pth')
track1_checkpoint = ('checkpoints/peers/basicvsr_plusplus_c128n25_ntire_'
                     'decompress_track1_20210223-7b2eba02.pth')
track2_checkpoint = ('checkpoints/peers/basicvsr_plusplus_c128n25_ntire_'
                     'decompress_track2_20210314-eeae05e6.pth')

# The generator of mmagic's NTIRE decompression configs (SPyNet's weights
# are in the checkpoints).
basicvsrpp_ntire = dict(
    type='BasicVSRPlusPlusNet',
    mid_channels=128,
    num_blocks=25,
    is_low_res_input=False,
    spynet_pretrained=None,
    cpu_cache_length=100)

model = dict(
    stage1=None,
    enhancenet1=dict(
        _delete_=True,
        **basicvsrpp_ntire,
        init_cfg=dict(type='CheckedPretrained', checkpoint=track2_checkpoint)),
    enhancenet2=dict(
        _delete_=True,
        **basicvsrpp_ntire,
        init_cfg=dict(type='CheckedPretrained', checkpoint=track1_checkpoint)))

# the base config's rows less stage 1
rows = dict(
    lq='lq_img',
    enhancenet2='enhancenet2_img',
    enhancenet1='enhancenet1_img',
    fused='fused_img',
    fused_sharp='pred_img')
test_evaluator = dict(
    _delete_=True,
    type='Evaluator',
    metrics=[
        dict(metric, pred_key=key, prefix=row) for row, key in rows.items()
        for metric in _base_.row_metrics
    ])
