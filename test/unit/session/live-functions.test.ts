// Per-function states for the lenses: a changed function is pending until a confirmed patch
// carries its current text, live after, pending again once edited, and restart when a restart
// finding sits on it; a new app process starts with nothing live.
import { strict as assert } from 'node:assert';
import { PatchabilityAnalyzer } from '../../../server/src/analysis';
import { LiveFunctions } from '../../../server/src/session/live-functions';

const FILE = '/ws/app/src/main.rs';
const V1 = 'fn a() -> u32 { 1 }\n\n#[inline(never)]\nfn b() -> u32 { 2 }\n';

describe('session: which changed functions the app runs', () => {
  it('pending → live after a patch → pending when edited again; a new app starts over', async () => {
    const an = await PatchabilityAnalyzer.create();
    an.update(FILE, V1);
    const v2 = V1.replace('{ 1 }', '{ 10 }').replace('{ 2 }', '{ 20 }');
    an.update(FILE, v2);
    const live = new LiveFunctions();
    const fns = an.changedFunctions(FILE);
    assert.deepEqual(live.statesOf(7, FILE, v2, fns, []).map((s) => `${s.name}:${s.state}`), ['a:pending', 'b:pending']);
    live.recordPatch(7, FILE, v2, fns, 1, 180);
    const now = live.statesOf(7, FILE, v2, fns, []);
    assert.deepEqual(now.map((s) => `${s.name}:${s.state}:${s.patch}:${s.ms}`), ['a:live:1:180', 'b:live:1:180']);
    assert.equal(now[1].range.start.line, 2, 'the range starts at the attribute');
    const v3 = v2.replace('{ 20 }', '{ 21 }');
    an.update(FILE, v3);
    assert.deepEqual(live.statesOf(7, FILE, v3, an.changedFunctions(FILE), []).map((s) => s.state), ['live', 'pending']);
    assert.deepEqual(live.statesOf(8, FILE, v3, an.changedFunctions(FILE), []).map((s) => s.state), ['pending', 'pending']);
  });

  it('a patch sent to a client that does not report back is "sent", never "live"; a Dioxus component is marked as one', async () => {
    const an = await PatchabilityAnalyzer.create();
    const v1 = '#[component]\nfn Counter(count: i32) -> Element {\n    rsx! { "{count}" }\n}\nfn helper() -> u32 { 1 }\n';
    an.update(FILE, v1);
    const v2 = v1.replace('"{count}"', '"Count: {count}"').replace('{ 1 }', '{ 2 }');
    an.update(FILE, v2);
    const fns = an.changedFunctions(FILE);
    const live = new LiveFunctions();
    const show = (xs: ReturnType<LiveFunctions['statesOf']>) => xs.map((s) => `${s.name}:${s.state}:${s.patch ?? '-'}:${s.component ?? false}`);
    assert.deepEqual(show(live.statesOf(3, FILE, v2, fns, [])), ['Counter:pending:-:true', 'helper:pending:-:false']);
    live.recordPatch(3, FILE, v2, fns, 4, 900, false);
    assert.deepEqual(show(live.statesOf(3, FILE, v2, fns, [])), ['Counter:sent:4:true', 'helper:sent:4:false']);
    // a later confirmed patch (an agent) makes it live; an edit makes it pending again
    live.recordPatch(3, FILE, v2, fns.slice(1), 5, 100, true);
    assert.deepEqual(show(live.statesOf(3, FILE, v2, fns, [])), ['Counter:sent:4:true', 'helper:live:5:false']);
    const v3 = v2.replace('Count:', 'Clicks:');
    an.update(FILE, v3);
    assert.deepEqual(show(live.statesOf(3, FILE, v3, an.changedFunctions(FILE), [])), ['Counter:pending:-:true', 'helper:live:5:false']);
  });

  it('a restart finding inside a function makes it wait for the restart', async () => {
    const an = await PatchabilityAnalyzer.create();
    an.update(FILE, V1);
    const v2 = V1.replace('{ 1 }', '{ 10 }');
    an.update(FILE, v2);
    const fns = an.changedFunctions(FILE);
    const onA = { start: { line: 0, character: 3 }, end: { line: 0, character: 4 } };
    assert.deepEqual(new LiveFunctions().statesOf(1, FILE, v2, fns, [onA]).map((s) => s.state), ['restart']);
  });
});
