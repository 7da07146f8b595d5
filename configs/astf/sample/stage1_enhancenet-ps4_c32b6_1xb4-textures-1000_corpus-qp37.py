# Stage 1 at sample scale, third phase (issue 15, session 20; shipped until
# the fourth phase, the built-1000 config, continued from it in session 21):
# the session-17 stage 1 (the hue-2000 config's iteration 2000) trained on
# with surface textures beside the corpus: one clip of each of the 98 rock,
# metal, grass, sand, dirt, wood, bark, snow, ice and concrete textures of
# Debian's ufoai-textures (`build_corpus.py --only tex-train
# --tex-train-root data/corpus_textrain`). Why: the session-17 stage 1 loses
# in colour on fine surface texture (the held-out mate_Wood, -0.440 dB; the
# texture validation set, -0.009 dB with 8 of 16 clips below the input),
# and the corpus's photographs hold little of it.
# lr 2.5e-4 (half the second phase's: it starts from a trained network)
# cosine to 0, 1000 iterations (24.5 min on 2 CPU cores).
# Adopted (session 20; rule written before the run): iteration 1000 was the
# shipped stage 1 (c2995621...), the fourth phase's start. One pass, 4:2:0
# projection, against the session-17 stage 1: texture validation set
# -0.009 -> -0.001 dB (clips below the input 8 -> 7 of 16), corpus
# validation split +0.210 -> +0.215 (none below), hue-turned set +0.136 ->
# +0.145 (5 -> 3 below):
# benchmarks/results/stage1_texture_training_corpus_val.md.
# Resumable:
#   python tools/train.py CONFIG --resume
# start, iterations and schedule of the third phase
_base_ = '../../_base_/schedules/stage1_third-phase-1000_corpus.py'

experiment_name = 'stage1_enhancenet-ps4_c32b6_1xb4-textures-1000_corpus-qp37'
work_dir = f'./work_dirs/{experiment_name}'

texture_root = 'data/corpus_textrain'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            _base_.train_dataloader.dataset,
            dict(_base_.train_dataloader.dataset, data_root=texture_root),
        ]))
