// Module trees as rustc finds them: `mod x;` files, mod.rs, #[path], inline modules; comments,
// strings and function bodies never declare modules.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { moduleTreeFiles, scanModDecls } from '../../../server/src/workspace/module-tree';
import { tempProject, removeDir } from '../../support/fixtures';

describe('module trees', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));

  it('scans mod declarations, skipping comments, strings, raw strings and fn bodies', () => {
    const decls = scanModDecls(`
      // mod in_comment;
      /* mod in_block; /* nested */ mod still_comment; */
      const S: &str = "mod in_string;";
      const R: &str = r#"mod in_raw;"#;
      fn f() { mod local_in_fn; }
      pub(crate) mod real;
      #[cfg(test)]
      #[path = "other/place.rs"] mod moved;
      mod inline { mod nested; pub mod deeper { mod leaf; } }
      mod r#type;
      fn g<'a>(x: &'a str) -> char { 'm' }
      mod after_lifetimes;
    `);
    assert.deepEqual(
      decls.map((d) => [d.name, d.pathAttr ?? '', d.inline.join('/')]),
      [
        ['real', '', ''],
        ['moved', 'other/place.rs', ''],
        ['nested', '', 'inline'],
        ['leaf', '', 'inline/deeper'],
        ['type', '', ''],
        ['after_lifetimes', '', ''],
      ],
    );
  });

  it('finds files the way rustc does: x.rs, x/mod.rs, children of non-mod-rs files, #[path], inline dirs', () => {
    const dir = tempProject({
      'src/lib.rs': 'pub mod a;\nmod b;\n#[path = "../extra/c_impl.rs"]\nmod c;\nmod inl { mod d; }\n',
      'src/a.rs': 'mod child;\n',
      'src/a/child.rs': '',
      'src/b/mod.rs': 'mod sub;\n',
      'src/b/sub.rs': '',
      'extra/c_impl.rs': 'mod beside;\n',
      'extra/beside.rs': '',
      'src/inl/d.rs': '',
      'src/main.rs': 'mod view;\n',
      'src/view.rs': '',
      'src/unclaimed.rs': '',
    });
    dirs.push(dir);
    const rel = (s: Set<string>) => [...s].map((f) => path.relative(dir, f)).sort();
    assert.deepEqual(rel(moduleTreeFiles(path.join(dir, 'src/lib.rs'))), [
      'extra/beside.rs', 'extra/c_impl.rs', 'src/a.rs', 'src/a/child.rs', 'src/b/mod.rs', 'src/b/sub.rs', 'src/inl/d.rs', 'src/lib.rs',
    ]);
    assert.deepEqual(rel(moduleTreeFiles(path.join(dir, 'src/main.rs'))), ['src/main.rs', 'src/view.rs']);
  });

  it('a missing module file or a cycle is harmless', () => {
    const dir = tempProject({ 'src/lib.rs': 'mod gone;\n#[path = "lib.rs"]\nmod again;\n' });
    dirs.push(dir);
    assert.deepEqual([...moduleTreeFiles(path.join(dir, 'src/lib.rs'))], [path.join(dir, 'src/lib.rs')]);
  });
});
