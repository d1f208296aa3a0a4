// The devserver wire format without sockets.
import * as assert from 'node:assert/strict';
import {
  detouredByReport,
  encodeCommand,
  encodeDetourPlan,
  encodeHotReload,
  encodePatchLibrary,
  parseClientFrame,
  parseConnectQuery,
  validateJumpTable,
} from '../../../server/src/devserver/protocol';

describe('devserver protocol', () => {
  it('parses the connect query like dx, listing problems instead of throwing', () => {
    const q = (s: string) => parseConnectQuery(new URLSearchParams(s));
    assert.deepEqual(q('aslr_reference=94558012345678&build_id=1&pid=31337'), {
      aslrReference: 94558012345678,
      buildId: 1,
      pid: 31337,
      problems: [],
    });
    assert.deepEqual(q('aslr_reference=5&pid=9'), { aslrReference: 5, buildId: 0, pid: 9, problems: [] });
    const zero = q('aslr_reference=0&pid=9');
    assert.equal(zero.aslrReference, undefined);
    assert.match(zero.problems.join(), /aslr_reference=0/);
    const garbage = q('aslr_reference=12abc&pid=4294967296&build_id=-1');
    assert.equal(garbage.aslrReference, undefined);
    assert.equal(garbage.pid, undefined);
    assert.equal(garbage.buildId, 0);
    assert.equal(garbage.problems.length, 3);
  });

  it('encodes a HotReload with decimal-string keys and numeric values', () => {
    const text = encodeHotReload(
      { lib: '/x/lib.so', map: { '0010': 20 }, aslr_reference: 1, new_base_address: 2, ifunc_count: 0 },
      3.6,
      0,
      55,
    );
    assert.equal(
      text,
      '{"HotReload":{"templates":[],"assets":[],"ms_elapsed":4,"jump_table":{"lib":"/x/lib.so","map":{"10":20},' +
        '"aslr_reference":1,"new_base_address":2,"ifunc_count":0},"for_build_id":0,"for_pid":55}}',
    );
    assert.equal(encodeCommand('FullReloadCommand'), '"FullReloadCommand"');
  });

  it('validates tables', () => {
    const ok = { lib: '/a.so', map: { '1': 2 }, aslr_reference: 1, new_base_address: 1, ifunc_count: 0 };
    assert.equal(validateJumpTable(ok), undefined);
    assert.match(validateJumpTable({ ...ok, map: { '1': -2 } }) ?? '', /not an address/);
    assert.match(validateJumpTable({ ...ok, aslr_reference: 1.5 }) ?? '', /aslr_reference/);
    assert.match(validateJumpTable({ ...ok, lib: '' }) ?? '', /no lib/);
  });

  it('classifies app frames', () => {
    assert.deepEqual(parseClientFrame('{"SubsecondAgent":{"Hello":{"pid":5,"agent_version":"0.1.0"}}}'), {
      kind: 'agent',
      message: { type: 'Hello', pid: 5, agentVersion: '0.1.0' },
    });
    assert.deepEqual(
      parseClientFrame(
        '{"SubsecondAgent":{"PatchResult":{"lib":"/l.so","ok":false,"error":"bad","apply_micros":3,"entries":4,"pid":5}}}',
      ),
      { kind: 'agent', message: { type: 'PatchResult', lib: '/l.so', ok: false, error: 'bad', applyMicros: 3, entries: 4, pid: 5 } },
    );
    const okResult = parseClientFrame(
      '{"SubsecondAgent":{"PatchResult":{"lib":"/l.so","ok":true,"error":null,"apply_micros":3,"entries":4,"pid":5}}}',
    );
    assert.equal(okResult.kind === 'agent' && okResult.message.type === 'PatchResult' && okResult.message.error, undefined);
    assert.deepEqual(parseClientFrame('{"Log":{"level":"info","messages":[]}}'), { kind: 'log' });
    for (const bad of ['', 'nul', '[]', '"Hello"', '{"SubsecondAgent":{"Hello":{"pid":"5"}}}', '{"SubsecondAgent":{"Bye":{}}}']) {
      assert.equal(parseClientFrame(bad).kind, 'invalid', bad);
    }
  });

  it('encodes detour plans and parses detour reports, rejecting malformed ones', () => {
    const t = { lib: '/a/lib.so', map: { '10': 20 }, aslr_reference: 5, new_base_address: 7, ifunc_count: 0 };
    assert.equal(
      encodeDetourPlan(t, { entries: [[10, 32, 20, 48, 'f']], keep: ['g'] }),
      '{"SubsecondAgent":{"DetourPlan":{"lib":"/a/lib.so","aslr_reference":5,"entries":[[10,32,20,48,"f"]],"keep":["g"]}}}',
    );
    const result = (detours: unknown) =>
      JSON.stringify({ SubsecondAgent: { PatchResult: { lib: '/a/lib.so', ok: true, error: null, apply_micros: 1, entries: 1, pid: 3, detours } } });
    const ok = parseClientFrame(result({ detoured: 3, skipped_total: 0, skipped: [], error: 'x' }));
    assert.equal(ok.kind, 'agent');
    assert.deepEqual(ok.kind === 'agent' && ok.message.type === 'PatchResult' ? ok.message.detours : undefined, {
      detoured: 3, skippedTotal: 0, skipped: [], entriesWritten: 0, threadsStopped: 0, micros: 0, error: 'x',
    });
    const none = parseClientFrame(result(null));
    assert.ok(none.kind === 'agent' && none.message.type === 'PatchResult' && none.message.detours === undefined);
    assert.equal(parseClientFrame(result({ detoured: -1, skipped_total: 0, skipped: [] })).kind, 'invalid');
  });

  it('reads the probe an agent reports at Hello (absent, null or text) and announces patch libraries', () => {
    const hello = (extra: string) => parseClientFrame(`{"SubsecondAgent":{"Hello":{"pid":5,"agent_version":"0.1.0"${extra}}}}`);
    assert.deepEqual(hello(''), { kind: 'agent', message: { type: 'Hello', pid: 5, agentVersion: '0.1.0' } });
    assert.deepEqual(hello(',"probe":null'), { kind: 'agent', message: { type: 'Hello', pid: 5, agentVersion: '0.1.0', probe: null } });
    assert.deepEqual(hello(',"probe":"ab12"'), { kind: 'agent', message: { type: 'Hello', pid: 5, agentVersion: '0.1.0', probe: 'ab12' } });
    assert.equal(hello(',"probe":5').kind, 'invalid');
    assert.equal(hello(`,"probe":"${'x'.repeat(300)}"`).kind, 'invalid');
    assert.equal(encodePatchLibrary('/t/libapp-patch-2.so', 123456), '{"SubsecondAgent":{"PatchLibrary":{"lib":"/t/libapp-patch-2.so","bytes":123456}}}');
  });

  it('which functions a detour report confirms: all but the skipped, nothing without a complete report', () => {
    const report = { detoured: 2, skippedTotal: 1, skipped: [{ name: 'busy_fn', reason: 'busy' }], entriesWritten: 2, threadsStopped: 1, micros: 5 };
    const confirmed = detouredByReport(report)!;
    assert.equal(confirmed('tick'), true);
    assert.equal(confirmed('busy_fn'), false);
    assert.equal(detouredByReport({ ...report, skippedTotal: 150 }), undefined, 'more skipped than listed: unknown which');
    assert.equal(detouredByReport({ ...report, error: 'could not stop the other threads' }), undefined);
    assert.equal(detouredByReport(undefined), undefined);
  });
});
