// The editor's buffers: which differ from the disk, and one pause after the last change.
import { strict as assert } from 'node:assert';
import { EditorBuffers } from '../../../server/src/session/editor-buffers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('editor buffers', () => {
  it('unsaved: only buffers whose text differs from a readable disk text', () => {
    const b = new EditorBuffers(() => 1000, () => undefined);
    const disk = new Map([['/a.rs', 'a'], ['/b.rs', 'b']]);
    b.changed('/a.rs', 'a');
    b.changed('/b.rs', 'b2');
    b.changed('/gone.rs', 'x'); // unreadable on disk: not a file to speculate on
    assert.deepEqual([...b.unsaved((f) => disk.get(f))], [['/b.rs', 'b2']]);
    b.closed('/b.rs');
    assert.equal(b.has('/b.rs'), false);
    assert.deepEqual([...b.unsaved((f) => disk.get(f))], []);
    b.dispose();
  });

  it('one pause after the last of several changes, with the last text; none after dispose', async () => {
    const seen: string[] = [];
    let b: EditorBuffers | undefined = undefined;
    b = new EditorBuffers(() => 50, () => seen.push([...b!.unsaved(() => 'disk')][0]?.[1] ?? ''));
    for (let i = 0; i < 5; i++) b.changed('/a.rs', `v${i}`); // a burst of keystrokes
    assert.deepEqual(seen, [], 'typing has not paused yet');
    await sleep(300);
    assert.deepEqual(seen, ['v4']);
    b.changed('/a.rs', 'v9');
    b.dispose();
    await sleep(200);
    assert.deepEqual(seen, ['v4']);
  });
});
