// dioxus/template-cache.ts — the one static of Dioxus' rsx! expansion that a patch must NOT share
// with the app.
//
// In debug builds every rsx! call site expands to a nested `fn __original_template()` holding
// `static __ORIGINAL_TEMPLATE: OnceLock<HotReloadedTemplate>`: the template (static text,
// element names, literal attributes) as compiled, set on first render (dioxus-rsx 0.7,
// template_body.rs). The engine normally binds a patch's statics to the app's copies so state
// survives; bound, this one would hand the patched component the template the app was launched
// with, and a changed static text would never show. Left to the patch, it starts empty and is
// filled from the patched code. It holds no user state (hook values live in the scope, not here).
// (An rsx! edit of statics alone needs no patch at all: it is sent as a template update,
// template-updates.ts; a patch also makes the app drop the templates it was sent.)
//
// Dioxus 0.8 (dioxus-rsx 0.8.0-alpha.3 template_body.rs) caches differently, with the same
// effect: in debug builds each rsx! call site has `static __RUNTIME_TEMPLATE:
// OnceLock<dioxus_core::Template>` directly in the component's body, the template lowered from
// the view's type on first render (`into_vnode_cached`). Bound to the app's, a patched component
// renders its new view through the template of the old one: "⚡ patched" was said and the window
// kept the old static text (seen with a 0.8.0-alpha.3 desktop app). Left to the patch as well.
//
// Matched on the mangled name (legacy `_ZN…19__original_template19__ORIGINAL_TEMPLATE…`,
// `_ZN…3App18__RUNTIME_TEMPLATE17h…E`, and v0 `_R…` keep the identifiers length-prefixed, in this order).
const TEMPLATE_CACHE = /19__original_template\w*?19__ORIGINAL_TEMPLATE|(?<!\d)18__RUNTIME_TEMPLATE/;

export function isRsxTemplateCache(mangledName: string): boolean {
  return TEMPLATE_CACHE.test(mangledName);
}
