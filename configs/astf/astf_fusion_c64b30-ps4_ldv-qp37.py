# ASTF end to end at paper width with every network propagating at 1/4
# resolution (EnhanceNet's propagation_scale=4, as BasicVSR++ does for its
# NTIRE 2021 decompression entries), for the issue-12 speed target (at most
# half of BasicVSR++ c128n25's time per frame; benchmarks/
# bench_vs_basicvsrpp.py: met on a quiet 2-core CPU, 1.18 against 3.54
# s/frame = 0.33x, benchmarks/results/vs_basicvsrpp_ps4_cpu.md). Quality
# cost against full-resolution propagation: at sample scale and equal CPU
# time 1/4 resolution was ahead (benchmarks/results/sweep_stage1_cpu.md);
# at equal iterations and at paper scale not measured. Its networks are trained by
# the ps4 stage configs (stage1_enhancenet-ps4_..., stage2_enhancenet{1,2}-
# ...-ps4_...): full-resolution checkpoints do not fit them.
#   python tools/test.py configs/astf/astf_fusion_c64b30-ps4_ldv-qp37.py
_base_ = './astf_fusion_c64b30_ldv-qp37.py'

experiment_name = 'astf_fusion_c64b30-ps4_ldv-qp37'
work_dir = f'./work_dirs/{experiment_name}'

stage1_checkpoint = 'checkpoints/stage1_enhancenet-ps4_c64b30_ldv-qp37.pth'
enhancenet1_checkpoint = (
    'checkpoints/stage2_enhancenet1-lpips-ps4_c64b30_ldv-qp37.pth')
enhancenet2_checkpoint = (
    'checkpoints/stage2_enhancenet2-tradeoff-ps4_c64b30_ldv-qp37.pth')

model = dict(
    stage1=dict(
        propagation_scale=4, init_cfg=dict(checkpoint=stage1_checkpoint)),
    enhancenet1=dict(
        propagation_scale=4, init_cfg=dict(checkpoint=enhancenet1_checkpoint)),
    enhancenet2=dict(
        propagation_scale=4, init_cfg=dict(checkpoint=enhancenet2_checkpoint)))
