// The Heirloom story editor: TipTap 3 with Markdown as the stored format.
//
// esbuild bundles this file into one self-contained ES module,
// app/js/dist/editor.js, which the Rust side binds with
// `#[wasm_bindgen(module = "/js/dist/editor.js")]` (app/src/components/editor_js.rs).
// Keep the exported names and signatures in step with that file.
//
// A "handle" is an opaque object returned by mountEditor; Rust holds it as a
// JsValue and passes it back to every other function.

import { Editor } from '@tiptap/core'
import BaseHeading from '@tiptap/extension-heading'
import BaseImage from '@tiptap/extension-image'
import { OrderedList as BaseOrderedList } from '@tiptap/extension-list'
import BaseParagraph from '@tiptap/extension-paragraph'
import { Markdown } from '@tiptap/markdown'
import StarterKit from '@tiptap/starter-kit'
import { Marked } from 'marked'

const EMPTY_DOC = { type: 'doc', content: [{ type: 'paragraph' }] }

const MARKS = {
  bold: 'toggleBold',
  italic: 'toggleItalic',
  strike: 'toggleStrike',
  code: 'toggleCode',
}

const NODES = {
  heading: 'toggleHeading',
  bulletList: 'toggleBulletList',
  orderedList: 'toggleOrderedList',
  blockquote: 'toggleBlockquote',
  codeBlock: 'toggleCodeBlock',
}

// A marked instance of our own for every editor. @tiptap/markdown registers
// its tokenizers with `use()` on the instance it is given; on marked's shared
// default instance they would pile up with every editor created.
//
// Markdown the schema cannot hold is kept as literal text rather than lost:
// - raw HTML: TipTap would otherwise turn known tags into nodes only where
//   `window` exists (the browser) and keep them as text elsewhere (node tests);
//   as text, both behave the same, and the serializer escapes `<`, `>` and `&`,
//   so the editor never emits raw HTML;
// - GFM tables and task-list checkboxes, which would otherwise be dropped.
function createMarked() {
  const marked = new Marked()
  const BaseLexer = marked.Lexer
  marked.Lexer = class LiteralLexer extends BaseLexer {
    constructor(options) {
      super(options)
      const tokenizer = this.tokenizer
      const { rules } = tokenizer
      const commonmark = BaseLexer.rules.block.normal
      tokenizer.html = () => undefined
      tokenizer.tag = () => undefined
      tokenizer.rules = {
        ...rules,
        // GFM block rules, minus tables (whose start also ends a paragraph).
        block: {
          ...rules.block,
          table: commonmark.table,
          paragraph: commonmark.paragraph,
          lheading: commonmark.lheading,
        },
        other: { ...rules.other, listIsTask: /(?!)/ },
      }
    }
  }
  return marked
}

// Paragraph text that starts a line with block syntax ("1984. We moved",
// "- not a list", "# no heading", "===") would come back as a list, heading or
// setext heading. TipTap escapes inline syntax only, so escape the block
// markers here. Leading spaces are dropped: Markdown ignores them, and four
// of them would start a code block.
const BLOCK_START = [
  [/^(#{1,6})(?=[ \t]|$)/, '\\$1'], // ATX heading
  [/^([-+*])(?=[ \t]|$)/, '\\$1'], // bullet item ("* " is escaped already)
  [/^(\d{1,9})([.)])(?=[ \t]|$)/, '$1\\$2'], // ordered item
  [/^([=-])(?=[=-]*[ \t]*$)/, '\\$1'], // setext underline / thematic break
]

function escapeBlockStarts(markdown) {
  return markdown
    .split('\n')
    .map(line => {
      let out = line.replace(/^[ \t]+/, '')
      for (const [pattern, replacement] of BLOCK_START) {
        out = out.replace(pattern, replacement)
      }
      return out
    })
    .join('\n')
}

const Paragraph = BaseParagraph.extend({
  renderMarkdown(node, helpers, context) {
    return escapeBlockStarts(this.parent(node, helpers, context))
  },
})

// An ATX heading is one line, and a closing run of `#` after a space is
// syntax, not text ("# Room #" reads back as "Room"). Line breaks inside a
// heading become spaces; a trailing run of `#` is escaped.
const Heading = BaseHeading.extend({
  renderMarkdown(node, helpers, context) {
    return this.parent(node, helpers, context)
      .replace(/[ \t]*\\?\n[ \t]*/g, ' ')
      .replace(/([ \t])(#+)$/, '$1\\$2')
  },
})

// @tiptap/extension-list 3.34.0 replaces marked's ordered-list tokenizer with
// its own, which misplaces an ordered list nested in a bullet list nested in
// an ordered list ("1. a\n   - b\n     1. c" puts "c" beside "b", not in
// it). Use marked's CommonMark tokenizer instead, and read its items the way
// BulletList does (through ListItem), since OrderedList's own item reader
// expects the replaced tokenizer's tokens.
const OrderedList = BaseOrderedList.extend({
  markdownTokenizer: null,
  parseMarkdown(token, helpers) {
    if (token.type !== 'list' || !token.ordered) {
      return []
    }
    const node = {
      type: 'orderedList',
      content: token.items ? helpers.parseChildren(token.items) : [],
    }
    if (typeof token.start === 'number' && token.start !== 1) {
      node.attrs = { start: token.start }
    }
    return node
  },
})

// An image's text goes between `[` and `]`: brackets and backslashes in it are
// escaped (a file name like "photo]1.jpg" would otherwise end it early), and a
// line break becomes a space. A destination with spaces or parentheses is
// written in angle brackets.
const Image = BaseImage.extend({
  renderMarkdown(node) {
    const attrs = node.attrs ?? {}
    const alt = String(attrs.alt ?? '')
      .replace(/[\\[\]]/g, '\\$&')
      .replace(/[ \t]*\n[ \t]*/g, ' ')
    const src = String(attrs.src ?? '')
    const destination = /[\s()<>]/.test(src) ? `<${src.replace(/[<>]/g, encodeURIComponent)}>` : src
    const title = attrs.title ? ` "${String(attrs.title).replace(/["\\]/g, '\\$&')}"` : ''
    return `![${alt}](${destination}${title})`
  },
})

function createExtensions() {
  return [
    StarterKit.configure({
      paragraph: false,
      heading: false,
      orderedList: false,
      // Markdown has no underline; keep the schema to what Markdown stores.
      underline: false,
      link: {
        // Clicking a link while writing must place the cursor, not navigate away.
        openOnClick: false,
        autolink: true,
        linkOnPaste: true,
        HTMLAttributes: { rel: 'noopener noreferrer nofollow', target: null },
      },
    }),
    Paragraph,
    Heading,
    OrderedList,
    // Markdown images are inline (`![alt](url)` sits in a paragraph); no data: URLs.
    Image.configure({ inline: true, allowBase64: false }),
    Markdown.configure({ marked: createMarked() }),
  ]
}

// Two lists of the same kind next to each other have no Markdown form of
// their own: written out, they read back as one list. Serialize them as the one
// list they will become, so the output is stable from the first round trip.
const LIST_TYPES = new Set(['bulletList', 'orderedList'])

function joinAdjacentLists(node) {
  if (!Array.isArray(node.content)) {
    return node
  }
  const content = []
  for (const child of node.content.map(joinAdjacentLists)) {
    const previous = content[content.length - 1]
    if (previous && LIST_TYPES.has(child.type) && previous.type === child.type) {
      content[content.length - 1] = {
        ...previous,
        content: [...(previous.content ?? []), ...(child.content ?? [])],
      }
    } else {
      content.push(child)
    }
  }
  return { ...node, content }
}

// Empty paragraphs at the end carry nothing (StarterKit's TrailingNode adds
// one after a final list, quote or code block so there is somewhere to type).
function dropTrailingEmptyParagraphs(doc) {
  const content = [...(doc.content ?? [])]
  while (content.length > 0) {
    const last = content[content.length - 1]
    if (last.type !== 'paragraph' || (last.content ?? []).length > 0) {
      break
    }
    content.pop()
  }
  return { ...doc, content }
}

function toMarkdown(editor) {
  return editor.markdown.serialize(
    joinAdjacentLists(dropTrailingEmptyParagraphs(editor.getJSON())),
  )
}

// Replaces the document with parsed Markdown: no update event, no undo step.
function replaceContent(editor, markdown) {
  return editor
    .chain()
    .setMeta('addToHistory', false)
    .setContent(typeof markdown === 'string' ? markdown : '', {
      contentType: 'markdown',
      emitUpdate: false,
    })
    .run()
}

function editorOf(handle) {
  const editor = handle && handle.editor
  if (!editor || editor.isDestroyed) {
    throw new Error('heirloom editor: the handle is destroyed or not a handle')
  }
  return editor
}

// Accepts `{ level: 2 }` or a bare level number (what Rust's Option<u8> becomes).
function normalizeAttrs(attrs) {
  if (typeof attrs === 'number') {
    return { level: attrs }
  }
  return attrs && typeof attrs === 'object' ? attrs : undefined
}

/**
 * Mounts an editor inside `element` with the initial Markdown. `onChange(markdown)`
 * is called on every change the user makes (not on mount, not on setMarkdown).
 * Returns the handle.
 */
export function mountEditor(element, markdown, onChange) {
  const handle = { editor: null }
  const editor = new Editor({
    element,
    extensions: createExtensions(),
    content: EMPTY_DOC,
    // The page's Content-Security-Policy allows no inline <style>; the few rules
    // TipTap would inject live in style/main.css instead.
    injectCSS: false,
    editorProps: {
      attributes: {
        role: 'textbox',
        'aria-multiline': 'true',
        'aria-label': 'Story text',
        spellcheck: 'true',
      },
    },
    onUpdate: ({ editor: ed }) => {
      if (typeof onChange === 'function') {
        onChange(toMarkdown(ed))
      }
    },
  })
  replaceContent(editor, markdown)
  handle.editor = editor
  return handle
}

/** The current document as Markdown. */
export function getMarkdown(handle) {
  return toMarkdown(editorOf(handle))
}

/**
 * Replaces the content without calling onChange and without an undo step.
 * Does nothing (keeps the cursor) when the Markdown equals the current document.
 */
export function setMarkdown(handle, markdown) {
  const editor = editorOf(handle)
  if (toMarkdown(editor) === markdown) {
    return
  }
  replaceContent(editor, markdown)
}

export function focusEditor(handle) {
  editorOf(handle).commands.focus()
}

/** Destroys the editor and removes its DOM. Safe to call twice. */
export function destroyEditor(handle) {
  const editor = handle && handle.editor
  if (editor && !editor.isDestroyed) {
    editor.destroy()
  }
  if (handle) {
    handle.editor = null
  }
}

/** Toggles 'bold' | 'italic' | 'strike' | 'code' on the selection. Returns whether it applied. */
export function toggleMark(handle, name) {
  const command = MARKS[name]
  if (!command) {
    console.warn(`heirloom editor: toggleMark: unknown mark ${JSON.stringify(name)}`)
    return false
  }
  return editorOf(handle).chain().focus()[command]().run()
}

/**
 * Toggles 'heading' (attrs { level: 1..6 } or a level number) | 'bulletList' |
 * 'orderedList' | 'blockquote' | 'codeBlock' at the selection. Returns whether it applied.
 */
export function toggleNode(handle, name, attrs) {
  const command = NODES[name]
  if (!command) {
    console.warn(`heirloom editor: toggleNode: unknown node ${JSON.stringify(name)}`)
    return false
  }
  const editor = editorOf(handle)
  if (name === 'heading') {
    const level = Number(normalizeAttrs(attrs)?.level ?? 1)
    if (!Number.isInteger(level) || level < 1 || level > 6) {
      console.warn(`heirloom editor: toggleNode: bad heading level ${JSON.stringify(attrs)}`)
      return false
    }
    return editor.chain().focus().toggleHeading({ level }).run()
  }
  return editor.chain().focus()[command]().run()
}

/**
 * Sets a link on the selection (or on the whole link the cursor is in). With an
 * empty selection outside a link, inserts `href` as linked text. An empty `href`
 * removes the link. Refuses URLs TipTap considers unsafe (e.g. `javascript:`).
 * Returns whether it applied.
 */
export function setLink(handle, href) {
  const editor = editorOf(handle)
  const url = typeof href === 'string' ? href.trim() : ''
  if (!url) {
    return editor.chain().focus().extendMarkRange('link').unsetLink().run()
  }
  if (!editor.can().setLink({ href: url })) {
    return false
  }
  if (editor.state.selection.empty && !editor.isActive('link')) {
    return editor
      .chain()
      .focus()
      .insertContent({ type: 'text', text: url, marks: [{ type: 'link', attrs: { href: url } }] })
      .run()
  }
  return editor.chain().focus().extendMarkRange('link').setLink({ href: url }).run()
}

// An `@` at the start of the text or after a space, then up to two words typed so far
// ("@", "@Ro", "@Rose Ho"), ending at the cursor.
const MENTION = /(?:^|\s)@([^\s@]{0,40}(?: [^\s@]{0,40})?)$/u

/**
 * The name being typed after an `@` at the cursor ("" right after the `@`), or null
 * when the cursor is not in a mention.
 */
export function mentionQuery(handle) {
  const { selection } = editorOf(handle).state
  if (!selection.empty) {
    return null
  }
  const { $from } = selection
  if ($from.parent.type.spec.code || $from.marks().some(mark => mark.type.name === 'link' || mark.type.name === 'code')) {
    return null
  }
  const before = $from.parent.textBetween(Math.max(0, $from.parentOffset - 100), $from.parentOffset, undefined, '\ufffc')
  const match = MENTION.exec(before)
  return match ? match[1] : null
}

/**
 * Replaces the `@name` being typed with `name` linked to `href` (a person's page,
 * `/people/<id>`), then a space. Returns whether it applied.
 */
export function insertMention(handle, name, href) {
  const editor = editorOf(handle)
  const query = mentionQuery(handle)
  if (query === null || typeof name !== 'string' || !name.trim() || !/^\/people\/[A-Za-z0-9-]+$/.test(href)) {
    return false
  }
  const to = editor.state.selection.from
  const from = to - query.length - 1
  return editor
    .chain()
    .focus()
    .insertContentAt({ from, to }, [
      { type: 'text', text: name.trim(), marks: [{ type: 'link', attrs: { href } }] },
      { type: 'text', text: ' ' },
    ])
    .unsetMark('link')
    .run()
}

/**
 * Inserts an image at the selection: `src` must be a path on this site
 * (`/media/…`) or an http(s) URL; `alt` is its text. Returns whether it applied.
 */
export function insertImage(handle, src, alt) {
  const editor = editorOf(handle)
  const url = typeof src === 'string' ? src.trim() : ''
  if (!/^\/(?![\/\\])/.test(url) && !/^https?:\/\//i.test(url)) {
    console.warn(`heirloom editor: insertImage: refused ${JSON.stringify(src)}`)
    return false
  }
  return editor
    .chain()
    .focus()
    .setImage({ src: url, alt: typeof alt === 'string' ? alt : '' })
    .run()
}

/** Whether the mark or node `name` (optionally with attrs such as { level: 2 }) is active at the selection. */
export function isActive(handle, name, attrs) {
  const editor = handle && handle.editor
  if (!editor || editor.isDestroyed) {
    return false
  }
  return editor.isActive(name, normalizeAttrs(attrs) ?? {})
}

/**
 * Parses Markdown into the editor schema and serializes it back, in a detached
 * editor (no DOM needed). Shows what the editor will store for `markdown`.
 */
export function roundTripMarkdown(markdown) {
  const editor = new Editor({
    element: null,
    extensions: createExtensions(),
    content: EMPTY_DOC,
  })
  try {
    replaceContent(editor, markdown)
    return toMarkdown(editor)
  } finally {
    editor.destroy()
  }
}
