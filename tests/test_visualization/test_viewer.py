"""The side-by-side viewer (astf_mm.visualization.viewer): the files it
writes, its refusals, and the page in a real headless Chromium.

The browser test needs Debian's ``chromium`` and ``chromium-driver``
(``apt-get install -y chromium chromium-driver``) and PyPI's ``selenium``;
without them it fails, unless ``ASTF_MM_NO_BROWSER=1`` is set.
"""
import io
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest

from astf_mm.io import (OutputPathError, VideoReadError, VideoWriter,
                        probe_video, read_frames, write_png_folder)
from astf_mm.visualization import check_metrics, viewer_files_dir, write_viewer

FPS = 10
NUM_FRAMES = 30
SIZE = 64
# one colour per stream, far apart in RGB
COLOURS = {
    'input': (220, 40, 40),
    'stage 1': (40, 200, 40),
    'enhanced': (40, 60, 230),
    'mask': (128, 128, 128),
    'reference': (230, 220, 40),
}
BAR = 4  # frame k: a white bar at x in [4k, 4k+4), bottom rows


def make_frames(colour, n=NUM_FRAMES, width=SIZE, height=SIZE):
    frames = []
    for k in range(n):
        frame = np.empty((height, width, 3), np.uint8)
        frame[:] = colour
        x = (k * BAR) % width
        frame[height - 8:, x:x + BAR] = 255
        frames.append(frame)
    return frames


def write_video(path, frames, fps=FPS, **kwargs):
    with VideoWriter(path, fps=fps, **kwargs) as writer:
        for frame in frames:
            writer.write(frame)
    return str(path)


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    """Five videos of one clip in the formats the tools write: FFV1 mkv
    (not playable in browsers), a lossy mp4 and a PNG folder."""
    root = tmp_path_factory.mktemp('clip')
    videos = {}
    for label, colour in COLOURS.items():
        frames = make_frames(colour)
        name = label.replace(' ', '')
        if label == 'mask':
            videos[label] = write_video(root / 'mask.mp4', frames, crf=18)
        elif label == 'reference':
            write_png_folder(frames, root / 'reference')
            videos[label] = str(root / 'reference')
        else:
            videos[label] = write_video(root / f'{name}.mkv', frames)
    return videos


def per_frame_metrics(n=NUM_FRAMES):
    k = np.arange(n)
    return {
        'PSNR': {
            'input': list(28 + 0.1 * np.sin(k)),
            'enhanced': list(28.5 + 0.1 * np.cos(k)),
        },
        'LPIPS': {
            'input': list(0.3 + 0.01 * k),
            'enhanced': [0.2] * n,
        },
    }


def page_data(path):
    text = open(path, encoding='utf-8').read()
    start = text.index('const VIEWER_DATA = ') + len('const VIEWER_DATA = ')
    end = text.index(';\n</script>', start)
    return json.loads(text[start:end])


@pytest.fixture(scope='module')
def page(clip, tmp_path_factory):
    out = tmp_path_factory.mktemp('page') / 'carphone.html'
    files = write_viewer(out,
                         clip,
                         metrics=per_frame_metrics(),
                         title='carphone </script> & co',
                         progress=False)
    return files


def test_viewer_writes_playable_copies(page, clip):
    assert page.html.endswith('carphone.html')
    assert page.files_dir == viewer_files_dir(page.html)
    assert page.files_dir.endswith('carphone_viewer_files')
    assert page.num_frames == NUM_FRAMES and page.fps == FPS
    assert list(page.videos) == list(COLOURS)
    assert sorted(os.listdir(page.files_dir)) == [
        '00_input.mp4', '01_stage_1.mp4', '02_enhanced.mp4', '03_mask.mp4',
        '04_reference.mp4'
    ]
    for label, path in page.videos.items():
        info = probe_video(path, count_frames=True)
        assert (info.codec, info.pix_fmt) == ('h264', 'yuv420p')
        assert (info.width, info.height) == (SIZE, SIZE)
        assert info.num_frames == NUM_FRAMES and info.fps == FPS
        copy = np.stack(list(read_frames(path))).astype(np.float64)
        source = np.stack(list(read_frames(clip[label]))).astype(np.float64)
        # near-lossless: flat colours and the bar survive CRF 12
        assert np.abs(copy - source).mean() < 2.0, label


def test_viewer_page_data(page):
    data = page_data(page.html)
    assert data['frames'] == NUM_FRAMES and data['fps'] == FPS
    assert (data['width'], data['height']) == (SIZE, SIZE)
    assert data['wipe'] == ['input', 'enhanced']
    assert [s['label'] for s in data['streams']] == list(COLOURS)
    assert data['streams'][1]['src'] == 'carphone_viewer_files/01_stage_1.mp4'
    assert data['metrics']['LPIPS']['enhanced'] == [0.2] * NUM_FRAMES
    text = open(page.html, encoding='utf-8').read()
    # the title cannot close the script or inject markup
    assert '<title>carphone &lt;/script&gt; &amp; co</title>' in text
    assert text.count('</script>') == 2
    assert data['title'] == 'carphone </script> & co'
    assert 'http://' not in text.replace('http://www.w3.org/2000/svg', '')
    assert 'https://' not in text


def test_viewer_refuses_existing_outputs(page, clip, tmp_path):
    html = tmp_path / 'v.html'
    html.write_bytes(b'mine')
    with pytest.raises(OutputPathError, match='v.html: exists'):
        write_viewer(html, clip, progress=False)
    assert html.read_bytes() == b'mine'
    assert not osp.exists(tmp_path / 'v_viewer_files')
    html.unlink()
    folder = tmp_path / 'v_viewer_files'
    folder.mkdir()
    (folder / 'notes.txt').write_bytes(b'keep')
    with pytest.raises(OutputPathError, match='is a folder that is not emp'):
        write_viewer(html, clip, progress=False)
    assert not html.exists()
    # overwrite replaces only what it writes
    html.write_bytes(b'old page')
    files = write_viewer(html, {'input': clip['input']},
                         overwrite=True,
                         progress=False)
    assert (folder / 'notes.txt').read_bytes() == b'keep'
    assert sorted(os.listdir(folder)) == ['00_input.mp4', 'notes.txt']
    assert page_data(files.html)['wipe'] == ['input', 'input']
    assert sorted(os.listdir(tmp_path)) == ['v.html', 'v_viewer_files']


def test_viewer_refuses_output_inside_input(clip):
    with pytest.raises(OutputPathError, match='lies inside it'):
        write_viewer(osp.join(clip['reference'], 'v.html'), clip,
                     progress=False)
    assert not any(n.endswith(('.html', '_viewer_files'))
                   for n in os.listdir(clip['reference']))


def test_viewer_mismatched_videos_leave_nothing(clip, tmp_path):
    short = write_video(tmp_path / 'short.mkv',
                        make_frames((0, 0, 0), n=NUM_FRAMES - 3))
    out = tmp_path / 'out' / 'v.html'
    with pytest.raises(VideoReadError,
                       match=f'{short}: has {NUM_FRAMES - 3} frames, but '):
        write_viewer(out, {
            'input': clip['input'],
            'short': short
        },
                     progress=False)
    assert os.listdir(tmp_path / 'out') == []
    big = write_video(tmp_path / 'big.mkv', make_frames((0, 0, 0), n=2,
                                                        width=66))
    with pytest.raises(VideoReadError, match=f'{big}: is 66x64, but '):
        write_viewer(out, {'input': clip['input'], 'big': big},
                     progress=False)
    with pytest.raises(ValueError, match=r"metrics\['PSNR'\]\['input'\] has "
                       f'5 values; the videos have {NUM_FRAMES} frames'):
        write_viewer(out, {'input': clip['input']},
                     metrics={'PSNR': {
                         'input': [1.0] * 5
                     }},
                     progress=False)
    with pytest.raises(ValueError, match='wipe .* must name two'):
        write_viewer(out, {'input': clip['input']},
                     wipe=('input', 'nope'),
                     progress=False)
    assert os.listdir(tmp_path / 'out') == []


def test_viewer_odd_size_is_padded_and_cropped(tmp_path):
    frames = make_frames((10, 200, 10), n=3, width=63, height=47)
    src = write_video(tmp_path / 'odd.mkv', frames)
    files = write_viewer(tmp_path / 'odd.html', {'input': src},
                         progress=False)
    info = probe_video(files.videos['input'])
    assert (info.width, info.height) == (64, 48)
    data = page_data(files.html)
    assert (data['width'], data['height']) == (63, 47)
    assert (data['streams'][0]['width'], data['streams'][0]['height']) == (
        64, 48)
    copy = np.stack(list(read_frames(files.videos['input'])))
    # the padding repeats the edge: the last column equals the one before
    assert np.abs(copy[:, :47, 63].astype(int) -
                  copy[:, :47, 62].astype(int)).max() <= 3


def test_check_metrics():
    out = check_metrics({'PSNR': {'a': [1, np.float32(2.5), None,
                                        float('inf'), float('nan')]}})
    assert out == {'PSNR': {'a': [1.0, 2.5, None, None, None]}}
    with pytest.raises(ValueError, match=r"metrics\['PSNR'\]\['a'\]\[1\] is "
                       "'x', not a number"):
        check_metrics({'PSNR': {'a': [1, 'x']}})
    with pytest.raises(ValueError, match=r"metrics\['L'\]\['b'\] has 1 "
                       'values; the first series has 2 frames'):
        check_metrics({'P': {'a': [1, 2]}, 'L': {'b': [1]}})
    with pytest.raises(ValueError, match='must be a non-empty dict'):
        check_metrics({'P': [1, 2]})
    assert check_metrics(None) is None


# ---------------------------------------------------------------------------
# the page in a real browser

INSTALL = ('apt-get install -y chromium chromium-driver && '
           'pip install selenium')


def _browser():
    """A headless Chromium driven by chromedriver, or a loud failure."""
    if os.environ.get('ASTF_MM_NO_BROWSER') == '1':
        pytest.skip('ASTF_MM_NO_BROWSER=1: browser test not run')
    try:
        from selenium import webdriver
    except ImportError:
        pytest.fail(f'selenium is not installed; run: {INSTALL} (or set '
                    'ASTF_MM_NO_BROWSER=1 to skip the browser test)')
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    driver = shutil.which('chromedriver')
    if chromium is None or driver is None:
        pytest.fail(f'chromium/chromedriver not found; run: {INSTALL} (or '
                    'set ASTF_MM_NO_BROWSER=1 to skip the browser test)')
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--window-size=1400,1300',
                '--force-device-scale-factor=1'):
        options.add_argument(arg)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    # an explicit chromedriver: selenium must not try to download one
    return webdriver.Chrome(service=webdriver.ChromeService(driver),
                            options=options)


@pytest.fixture(scope='module')
def browser():
    driver = _browser()
    yield driver
    driver.quit()


def _screenshot(driver):
    from PIL import Image
    png = driver.get_screenshot_as_png()
    return np.asarray(Image.open(io.BytesIO(png)).convert('RGB'))


def _pixel(shot, rect, fx, fy):
    """The screenshot's colour at fractions (fx, fy) of an element."""
    x = int(rect['left'] + fx * rect['width'])
    y = int(rect['top'] + fy * rect['height'])
    return shot[y, x].astype(int)


def _near(rgb, colour, tol=40):
    return bool(np.abs(rgb - np.asarray(colour)).max() <= tol)


def _wait(driver, script, what, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: d.execute_script(script), message=what)


def test_viewer_in_headless_chromium(page, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    driver = browser
    driver.get('file://' + page.html)
    _wait(driver, 'return window.viewer && window.viewer.videos.every('
          'v => v.readyState >= 2)', 'videos not loaded (readyState < 2)')
    assert driver.find_element(By.ID, 'status').text == ''
    state = driver.execute_script(
        'return window.viewer.videos.map(v => [v.dataset.label, '
        'v.readyState, v.duration, v.videoWidth, v.error && v.error.code])')
    assert [s[0] for s in state] == list(COLOURS)
    for label, ready, duration, width, error in state:
        assert ready >= 2 and error is None, label
        assert duration == pytest.approx(NUM_FRAMES / FPS, abs=1e-3), label
        assert width == SIZE, label
    canvas = driver.find_element(By.ID, 'wipe-canvas')
    rect = driver.execute_script(
        'return arguments[0].getBoundingClientRect().toJSON()', canvas)
    zoom = rect['width'] / SIZE
    assert zoom >= 1 and rect['height'] == pytest.approx(SIZE * zoom)

    # the wipe: A (input, red) left of the split, B (enhanced, blue) right
    _wait(driver, 'return window.viewer.frame() === 0 && '
          '!window.viewer.videos.some(v => v.seeking)', 'seek to frame 0')
    assert (canvas.get_attribute('data-a'),
            canvas.get_attribute('data-b')) == ('input', 'enhanced')
    assert canvas.get_attribute('data-split') == str(SIZE // 2)
    shot = _screenshot(driver)
    assert shot.std() > 20  # not blank
    assert _near(_pixel(shot, rect, 0.25, 0.3), COLOURS['input'])
    assert _near(_pixel(shot, rect, 0.75, 0.3), COLOURS['enhanced'])
    slider = driver.find_element(By.ID, 'wipe')
    driver.execute_script(
        'arguments[0].value = 250; arguments[0].dispatchEvent('
        'new Event("input"))', slider)
    assert canvas.get_attribute('data-split') == str(SIZE // 4)
    line = driver.find_element(By.ID, 'wipe-line')
    assert line.value_of_css_property('left') == f'{SIZE // 4 * zoom:g}px'
    shot = _screenshot(driver)
    assert _near(_pixel(shot, rect, 0.15, 0.3), COLOURS['input'])
    assert _near(_pixel(shot, rect, 0.35, 0.3), COLOURS['enhanced'])
    assert _near(_pixel(shot, rect, 0.75, 0.3), COLOURS['enhanced'])
    slider.send_keys(Keys.END)  # the whole frame is A
    assert canvas.get_attribute('data-split') == str(SIZE)
    shot = _screenshot(driver)
    assert _near(_pixel(shot, rect, 0.95, 0.3), COLOURS['input'])
    # other streams chosen in the selects
    driver.execute_script(
        'const a = document.getElementById("wipe-a"); a.value = "reference";'
        'a.dispatchEvent(new Event("change"));'
        'const b = document.getElementById("wipe-b"); b.value = "stage 1";'
        'b.dispatchEvent(new Event("change"));')
    slider.send_keys(Keys.HOME)  # the whole frame is B
    assert canvas.get_attribute('data-split') == '0'
    shot = _screenshot(driver)
    assert _near(_pixel(shot, rect, 0.05, 0.3), COLOURS['stage 1'])
    driver.execute_script('window.viewer.setSplit(0.5)')
    shot = _screenshot(driver)
    assert _near(_pixel(shot, rect, 0.25, 0.3), COLOURS['reference'])
    assert _near(_pixel(shot, rect, 0.75, 0.3), COLOURS['stage 1'])

    # frame stepping: buttons and keys move every video by one frame
    def times():
        return driver.execute_script(
            'return window.viewer.videos.map(v => v.currentTime)')

    def settled(k):
        _wait(driver, f'return window.viewer.frame() === {k} && '
              '!window.viewer.videos.some(v => v.seeking)', f'frame {k}')

    before = times()
    assert before == [pytest.approx(0.5 / FPS)] * len(COLOURS)
    driver.find_element(By.ID, 'next').click()
    settled(1)
    driver.find_element(By.ID, 'next').click()
    settled(2)
    after = times()
    assert after == [pytest.approx(2.5 / FPS, abs=1e-6)] * len(COLOURS)
    driver.find_element(By.TAG_NAME, 'body').send_keys(Keys.ARROW_LEFT)
    settled(1)
    assert times() == [pytest.approx(1.5 / FPS, abs=1e-6)] * len(COLOURS)
    assert driver.find_element(By.ID, 'frame').text.startswith(
        f'frame 1 / {NUM_FRAMES - 1}')
    # the drawn frame is frame 1: its white bar is at x in [4, 8)
    shot = _screenshot(driver)
    bar_y = (SIZE - 4) / SIZE
    assert _near(_pixel(shot, rect, 6 / SIZE, bar_y), (255, 255, 255))
    assert _near(_pixel(shot, rect, 2 / SIZE, bar_y), COLOURS['reference'])

    # metric curves: one polyline per series, the marker at frame 1
    charts = driver.find_elements(By.CSS_SELECTOR, '.chart svg')
    assert [c.get_attribute('data-metric') for c in charts] == [
        'PSNR', 'LPIPS'
    ]
    for chart in charts:
        lines = chart.find_elements(By.CSS_SELECTOR, 'polyline')
        assert [p.get_attribute('data-series')
                for p in lines] == ['input', 'enhanced']
        points = lines[0].get_attribute('points').split()
        assert len(points) == NUM_FRAMES
        marker = chart.find_element(By.CSS_SELECTOR, 'line.marker')
        assert float(marker.get_attribute('x1')) == pytest.approx(
            float(points[1].split(',')[0]), abs=0.01)
    readout = driver.find_elements(By.CSS_SELECTOR, '.chart .readout')[1]
    assert readout.text == 'frame 1: input 0.31, enhanced 0.2'

    # play: the videos advance together, within one frame of each other
    driver.find_element(By.ID, 'play').click()
    _wait(driver, 'return window.viewer.videos[0].currentTime > 1.0',
          'playback did not advance')
    for _ in range(5):
        now = times()
        assert max(now) - min(now) <= 1 / FPS, now
        assert all(not p for p in driver.execute_script(
            'return window.viewer.videos.map(v => v.paused)'))
    driver.find_element(By.ID, 'play').click()  # pause aligns every video
    paused = times()
    assert max(paused) - min(paused) < 1e-6
    assert paused[0] > 1.0

    errors = [e for e in driver.get_log('browser') if e['level'] == 'SEVERE']
    assert errors == []
