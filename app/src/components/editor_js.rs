//! Rust bindings to the story editor's JavaScript: TipTap 3 with Markdown as the
//! stored format, written in `editor/src/editor.js` and bundled by esbuild into
//! `public/editor/editor.js` (`npm run build --prefix editor`; `scripts/tools.sh` does it),
//! served at `/editor/editor.js`. The WASM links only the tiny `js/editor_loader.js`,
//! which imports the bundle when the first editor mounts: pages that do not edit never
//! load it.
//!
//! This module owns the boundary to that bundle: the raw `extern` functions and
//! [`TipTap`], a safe handle that keeps the change callback alive and destroys the
//! editor when dropped. It has no UI of its own; the toolbar and the island that
//! mounts the editor live elsewhere and call [`TipTap`]'s methods.
//!
//! Everything here exists only with the `hydrate` feature (the browser build).

#[cfg(feature = "hydrate")]
use wasm_bindgen::prelude::*;

// The names and arguments follow the exports of editor/src/editor.js. A heading level
// or other attributes go to JS as a bare number (`Option<u8>`: `None` is `undefined`),
// which the JS side accepts in place of `{ level }`.
#[cfg(feature = "hydrate")]
#[wasm_bindgen(module = "/js/editor_loader.js")]
extern "C" {
    /// Resolves to the bundle's module object, importing it on first use.
    #[wasm_bindgen(js_name = loadEditor)]
    fn load_editor() -> js_sys::Promise;
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen]
extern "C" {
    /// The bundle's module namespace: its exports are called as methods.
    pub type EditorModule;

    /// Mounts an editor inside `element` showing `markdown`; `on_change` gets the new
    /// Markdown after every change made in the editor. Returns the editor's handle.
    #[wasm_bindgen(method, js_name = mountEditor)]
    pub fn mount_editor(
        this: &EditorModule,
        element: &web_sys::Element,
        markdown: &str,
        on_change: &Closure<dyn FnMut(String)>,
    ) -> JsValue;

    /// The current document as Markdown.
    #[wasm_bindgen(method, js_name = getMarkdown)]
    pub fn get_markdown(this: &EditorModule, handle: &JsValue) -> String;

    /// Replaces the document without calling `on_change` and without an undo step;
    /// does nothing when `markdown` equals the current document.
    #[wasm_bindgen(method, js_name = setMarkdown)]
    pub fn set_markdown(this: &EditorModule, handle: &JsValue, markdown: &str);

    #[wasm_bindgen(method, js_name = focusEditor)]
    pub fn focus_editor(this: &EditorModule, handle: &JsValue);

    /// Destroys the editor and removes its DOM. Safe to call twice.
    #[wasm_bindgen(method, js_name = destroyEditor)]
    pub fn destroy_editor(this: &EditorModule, handle: &JsValue);

    /// Parses Markdown into the editor's schema and writes it back (no DOM needed):
    /// what the editor would store for `markdown`.
    #[wasm_bindgen(method, js_name = roundTripMarkdown)]
    pub fn round_trip_markdown(this: &EditorModule, markdown: &str) -> String;

    /// `name`: "bold" | "italic" | "strike" | "code". Returns whether it applied.
    #[wasm_bindgen(method, js_name = toggleMark)]
    pub fn toggle_mark(this: &EditorModule, handle: &JsValue, name: &str) -> bool;

    /// `name`: "heading" (with `level` 1–6) | "bulletList" | "orderedList" |
    /// "blockquote" | "codeBlock". Returns whether it applied.
    #[wasm_bindgen(method, js_name = toggleNode)]
    pub fn toggle_node(this: &EditorModule, handle: &JsValue, name: &str, level: Option<u8>) -> bool;

    /// Links the selection (or the link at the cursor) to `href`, or inserts `href`
    /// as linked text when nothing is selected; an empty `href` removes the link.
    /// Unsafe URLs (such as `javascript:`) are refused. Returns whether it applied.
    #[wasm_bindgen(method, js_name = setLink)]
    pub fn set_link(this: &EditorModule, handle: &JsValue, href: &str) -> bool;

    /// Inserts an image at the selection; `src` must be a path on this site or an
    /// http(s) URL. Returns whether it applied.
    #[wasm_bindgen(method, js_name = insertImage)]
    pub fn insert_image(this: &EditorModule, handle: &JsValue, src: &str, alt: &str) -> bool;

    /// The name typed after an `@` at the cursor ("" right after the `@`), or `None`
    /// when the cursor is not in a mention.
    #[wasm_bindgen(method, js_name = mentionQuery)]
    pub fn mention_query(this: &EditorModule, handle: &JsValue) -> Option<String>;

    /// Replaces the `@name` being typed with `name` linked to `href` (`/people/<id>`).
    /// Returns whether it applied.
    #[wasm_bindgen(method, js_name = insertMention)]
    pub fn insert_mention(this: &EditorModule, handle: &JsValue, name: &str, href: &str) -> bool;

    /// Whether the mark or node `name` ("bold", "link", "heading", "bulletList", …)
    /// is active at the selection; for "heading", `level` narrows it to one level.
    #[wasm_bindgen(method, js_name = isActive)]
    pub fn is_active(this: &EditorModule, handle: &JsValue, name: &str, level: Option<u8>) -> bool;
}

/// A mounted story editor. Dropping it destroys the editor and then frees the
/// change callback, in that order.
///
/// `on_change` runs synchronously inside the editor's dispatch: on typing, and also
/// inside [`toggle_mark`](Self::toggle_mark), [`toggle_node`](Self::toggle_node) and
/// [`set_link`](Self::set_link) when they change the document. So the callback must
/// not call back into this `TipTap` to change the document (that would re-enter the
/// callback), and code calling those methods must not hold a `RefCell` borrow that
/// the callback also takes. [`set_markdown`](Self::set_markdown) never calls it.
#[cfg(feature = "hydrate")]
pub struct TipTap {
    module: EditorModule,
    handle: JsValue,
    _on_change: Closure<dyn FnMut(String)>,
}

#[cfg(feature = "hydrate")]
impl TipTap {
    /// Mounts an editor inside `element` (an `HtmlDivElement` from a `NodeRef`
    /// derefs to `&Element`) showing `markdown`.
    /// Fails when the bundle cannot be loaded (the page keeps its plain textarea).
    pub async fn mount(
        element: &web_sys::Element,
        markdown: &str,
        on_change: impl FnMut(String) + 'static,
    ) -> Result<TipTap, JsValue> {
        let module: EditorModule = wasm_bindgen_futures::JsFuture::from(load_editor()).await?.unchecked_into();
        let on_change = Closure::<dyn FnMut(String)>::new(on_change);
        let handle = module.mount_editor(element, markdown, &on_change);
        Ok(TipTap { module, handle, _on_change: on_change })
    }

    /// The current document as Markdown (the stored format).
    pub fn markdown(&self) -> String {
        self.module.get_markdown(&self.handle)
    }

    /// Replaces the document; `on_change` is not called.
    pub fn set_markdown(&self, markdown: &str) {
        self.module.set_markdown(&self.handle, markdown);
    }

    pub fn focus(&self) {
        self.module.focus_editor(&self.handle);
    }

    /// "bold" | "italic" | "strike" | "code". Returns whether it applied.
    pub fn toggle_mark(&self, name: &str) -> bool {
        self.module.toggle_mark(&self.handle, name)
    }

    /// "heading" (with `Some(level)`) | "bulletList" | "orderedList" | "blockquote" |
    /// "codeBlock". Returns whether it applied.
    pub fn toggle_node(&self, name: &str, level: Option<u8>) -> bool {
        self.module.toggle_node(&self.handle, name, level)
    }

    /// Sets the link on the selection to `href`; an empty `href` removes it.
    /// Returns whether it applied (unsafe URLs are refused).
    pub fn set_link(&self, href: &str) -> bool {
        self.module.set_link(&self.handle, href)
    }

    /// Inserts an image (`src` a site path such as `/media/{id}/thumb-1920`) at the
    /// selection. Returns whether it applied.
    pub fn insert_image(&self, src: &str, alt: &str) -> bool {
        self.module.insert_image(&self.handle, src, alt)
    }

    /// The name typed after an `@` at the cursor, if the cursor is in a mention.
    pub fn mention_query(&self) -> Option<String> {
        self.module.mention_query(&self.handle)
    }

    /// Replaces the mention being typed with a link to a person's page.
    pub fn insert_mention(&self, name: &str, href: &str) -> bool {
        self.module.insert_mention(&self.handle, name, href)
    }

    /// Whether the mark or node `name` is active at the selection (any heading level
    /// for "heading").
    pub fn is_active(&self, name: &str) -> bool {
        self.module.is_active(&self.handle, name, None)
    }

    /// Whether the selection is in a heading of `level`.
    pub fn is_heading(&self, level: u8) -> bool {
        self.module.is_active(&self.handle, "heading", Some(level))
    }
}

#[cfg(feature = "hydrate")]
impl Drop for TipTap {
    fn drop(&mut self) {
        // Runs before the fields drop, so the editor is gone before its callback is.
        self.module.destroy_editor(&self.handle);
    }
}
