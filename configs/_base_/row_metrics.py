# The metrics of every table row: the ASTF configs score each of their rows
# with this list (one entry per row and metric, prefixed by the row) and the
# peer configs (configs/peers/) score their one row with it. A variable,
# because those configs also inherit mmagic's or a stage's config, and
# mmengine refuses a key (test_evaluator) defined by two bases.
row_metrics = [
    dict(type='VideoPSNR'),
    dict(type='VideoSSIM'),
    dict(type='VideoLPIPS', net='alex'),
    dict(type='VideoFID'),
    dict(type='TOF'),
    dict(type='TLP'),
]
