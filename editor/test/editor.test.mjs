// The mounted editor, as the Rust bindings use it, in a jsdom document:
// accessibility attributes, onChange, setMarkdown, toolbar commands, destroy.
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'

import { JSDOM } from 'jsdom'

// ProseMirror reads `navigator` and `document` when its modules load, so the
// DOM globals go in before the editor module is imported.
const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', {
  pretendToBeVisual: true,
})
const { window } = dom
const globals = {
  window,
  document: window.document,
  navigator: window.navigator,
  getComputedStyle: window.getComputedStyle.bind(window),
  requestAnimationFrame: window.requestAnimationFrame.bind(window),
  cancelAnimationFrame: window.cancelAnimationFrame.bind(window),
}
for (const name of [
  'Node',
  'Element',
  'HTMLElement',
  'Text',
  'DocumentFragment',
  'MutationObserver',
  'DOMParser',
  'Event',
  'KeyboardEvent',
  'MouseEvent',
  'ClipboardEvent',
  'InputEvent',
]) {
  if (window[name]) {
    globals[name] = window[name]
  }
}
for (const [name, value] of Object.entries(globals)) {
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true })
}
// jsdom has no layout; ProseMirror asks for rectangles when it scrolls the
// selection into view.
const emptyRect = () => ({ top: 0, left: 0, right: 0, bottom: 0, width: 0, height: 0, x: 0, y: 0 })
window.Range.prototype.getBoundingClientRect = emptyRect
window.Range.prototype.getClientRects = () => []
window.Element.prototype.scrollIntoView = () => {}
window.document.elementFromPoint = () => null

const editor = await import('../src/editor.js')

describe('mounted editor', () => {
  let host
  let handle
  let changes

  beforeEach(() => {
    if (handle) {
      editor.destroyEditor(handle)
    }
    document.body.innerHTML = ''
    host = document.createElement('div')
    document.body.append(host)
    changes = []
    handle = editor.mountEditor(host, '# Title\n\nSome **bold** text.', md => changes.push(md))
  })

  after(() => {
    editor.destroyEditor(handle)
    window.close()
  })

  const prose = () => host.querySelector('[contenteditable]')
  const pm = () => handle.editor

  test('mounts an accessible textbox inside the element', () => {
    const el = prose()
    assert.ok(el, 'a contenteditable element exists')
    assert.equal(el.getAttribute('role'), 'textbox')
    assert.equal(el.getAttribute('aria-multiline'), 'true')
    assert.equal(el.getAttribute('aria-label'), 'Story text')
    assert.equal(el.getAttribute('contenteditable'), 'true')
    assert.equal(el.querySelector('h1').textContent, 'Title')
    assert.equal(el.querySelector('strong').textContent, 'bold')
  })

  test('getMarkdown returns the initial Markdown; mounting is not a change', () => {
    assert.equal(editor.getMarkdown(handle), '# Title\n\nSome **bold** text.')
    assert.deepEqual(changes, [])
  })

  test('mounting is not an undo step', () => {
    assert.equal(pm().can().undo(), false)
  })

  test('an edit calls onChange with the new Markdown', () => {
    pm().chain().setTextSelection(pm().state.doc.content.size - 1).insertContent(' More.').run()
    assert.equal(changes.at(-1), '# Title\n\nSome **bold** text. More.')
    assert.equal(editor.getMarkdown(handle), changes.at(-1))
  })

  test('setMarkdown replaces the content without onChange or an undo step', () => {
    editor.setMarkdown(handle, '- one\n- two')
    assert.equal(editor.getMarkdown(handle), '- one\n- two')
    assert.deepEqual(changes, [])
    assert.equal(pm().can().undo(), false)
    assert.equal(prose().querySelectorAll('li').length, 2)
  })

  test('setMarkdown with the current Markdown keeps the selection', () => {
    pm().commands.setTextSelection(3)
    editor.setMarkdown(handle, editor.getMarkdown(handle))
    assert.equal(pm().state.selection.from, 3)
  })

  test('the empty paragraph kept after a final block is not stored', () => {
    editor.setMarkdown(handle, 'text\n\n```\ncode\n```')
    assert.equal(pm().state.doc.lastChild.type.name, 'paragraph', 'TrailingNode added one')
    assert.equal(editor.getMarkdown(handle), 'text\n\n```\ncode\n```')
  })

  test('empty Markdown gives an empty document', () => {
    editor.setMarkdown(handle, '')
    assert.equal(editor.getMarkdown(handle), '')
    assert.equal(pm().isEmpty, true)
  })

  test('toggleMark and isActive', () => {
    editor.setMarkdown(handle, 'plain words')
    pm().commands.setTextSelection({ from: 1, to: 6 })
    for (const [name, md] of [
      ['bold', '**plain** words'],
      ['italic', '***plain*** words'],
      ['strike', '***~~plain~~*** words'],
    ]) {
      assert.equal(editor.toggleMark(handle, name), true, name)
      assert.equal(editor.isActive(handle, name), true, name)
      assert.equal(editor.getMarkdown(handle), md)
    }
    editor.toggleMark(handle, 'strike')
    editor.toggleMark(handle, 'italic')
    editor.toggleMark(handle, 'bold')
    assert.equal(editor.isActive(handle, 'bold'), false)
    assert.equal(editor.toggleMark(handle, 'code'), true)
    assert.equal(editor.getMarkdown(handle), '`plain` words')
    assert.equal(editor.toggleMark(handle, 'underline'), false, 'unknown marks are refused')
    assert.equal(changes.length > 0, true, 'toolbar commands are changes')
  })

  test('toggleNode and isActive with attributes', () => {
    editor.setMarkdown(handle, 'a line')
    pm().commands.setTextSelection(2)
    assert.equal(editor.toggleNode(handle, 'heading', { level: 2 }), true)
    assert.equal(editor.isActive(handle, 'heading', { level: 2 }), true)
    assert.equal(editor.isActive(handle, 'heading', { level: 1 }), false)
    assert.equal(editor.getMarkdown(handle), '## a line')
    editor.toggleNode(handle, 'heading', 2) // a bare level works too (Rust's Option<u8>)
    assert.equal(editor.getMarkdown(handle), 'a line')
    for (const [name, md] of [
      ['bulletList', '- a line'],
      ['orderedList', '1. a line'], // switches the list's kind
      ['orderedList', 'a line'], // and off again
      ['blockquote', '> a line'],
    ]) {
      assert.equal(editor.toggleNode(handle, name), true, name)
      assert.equal(editor.isActive(handle, name), md !== 'a line', name)
      assert.equal(editor.getMarkdown(handle), md)
    }
    editor.toggleNode(handle, 'blockquote')
    assert.equal(editor.getMarkdown(handle), 'a line')
    assert.equal(editor.toggleNode(handle, 'codeBlock'), true)
    assert.equal(editor.getMarkdown(handle), '```\na line\n```')
    assert.equal(editor.toggleNode(handle, 'heading', { level: 9 }), false, 'bad levels are refused')
    assert.equal(editor.toggleNode(handle, 'table'), false, 'unknown nodes are refused')
  })

  test('setLink on a selection, on an empty selection, and removing it', () => {
    editor.setMarkdown(handle, 'see this')
    pm().commands.setTextSelection({ from: 5, to: 9 })
    assert.equal(editor.setLink(handle, 'https://example.com/a'), true)
    assert.equal(editor.getMarkdown(handle), 'see [this](https://example.com/a)')
    assert.equal(editor.isActive(handle, 'link'), true)

    // Cursor inside the link: the whole link changes.
    pm().commands.setTextSelection(7)
    editor.setLink(handle, '/legacies/1')
    assert.equal(editor.getMarkdown(handle), 'see [this](/legacies/1)')

    editor.setLink(handle, '')
    assert.equal(editor.getMarkdown(handle), 'see this')

    pm().commands.setTextSelection(1)
    assert.equal(editor.setLink(handle, 'https://example.com'), true)
    assert.equal(editor.getMarkdown(handle), '[https://example.com](https://example.com)see this')

    assert.equal(editor.setLink(handle, 'javascript:alert(1)'), false, 'unsafe URLs are refused')
    assert.equal(prose().querySelector('a').getAttribute('href'), 'https://example.com')
  })

  test('insertImage puts an image at the cursor and refuses unsafe sources', () => {
    editor.setMarkdown(handle, 'Before after')
    pm().commands.setTextSelection(8)
    assert.equal(editor.insertImage(handle, '/media/01J8/thumb-1920', 'garden [1].jpg'), true)
    assert.equal(editor.getMarkdown(handle), 'Before ![garden \\[1\\].jpg](/media/01J8/thumb-1920)after')
    assert.equal(changes.length, 1, 'an insertion is a change')
    const img = prose().querySelector('img')
    assert.equal(img.getAttribute('src'), '/media/01J8/thumb-1920')
    assert.equal(img.getAttribute('alt'), 'garden [1].jpg')

    for (const bad of ['javascript:alert(1)', 'data:image/png;base64,AAAA', '//evil.example/x.png', '']) {
      assert.equal(editor.insertImage(handle, bad, 'x'), false, `refuses ${bad}`)
    }
    assert.equal(prose().querySelectorAll('img').length, 1)
  })

  test('an @ starts a mention, and a chosen person replaces it with a link to their page', () => {
    editor.setMarkdown(handle, 'Baked by')
    const end = () => pm().commands.setTextSelection(pm().state.doc.content.size - 1)
    end()
    assert.equal(editor.mentionQuery(handle), null)
    pm().chain().insertContent(' @').run()
    assert.equal(editor.mentionQuery(handle), '')
    pm().chain().insertContent('Rose Ho').run()
    assert.equal(editor.mentionQuery(handle), 'Rose Ho')
    assert.equal(editor.insertMention(handle, 'Rose Howard', 'javascript:alert(1)'), false)
    assert.equal(editor.insertMention(handle, 'Rose Howard', '/people/abc-123'), true)
    assert.equal(editor.getMarkdown(handle), 'Baked by [Rose Howard](/people/abc-123) ')
    assert.equal(editor.mentionQuery(handle), null, 'the mention is done')
    pm().chain().insertContent('and Tom.').run()
    assert.equal(editor.getMarkdown(handle), 'Baked by [Rose Howard](/people/abc-123) and Tom.')
    // An @ inside a word (an email address) is no mention.
    pm().chain().insertContent(' mail tom@ex').run()
    assert.equal(editor.mentionQuery(handle), null)
    assert.equal(editor.insertMention(handle, 'Tom', '/people/t'), false)
  })

  test('focusEditor does not throw', () => {
    editor.focusEditor(handle)
  })

  test('destroyEditor removes the editor and is safe to repeat', () => {
    editor.destroyEditor(handle)
    assert.equal(prose(), null)
    editor.destroyEditor(handle)
    assert.equal(editor.isActive(handle, 'bold'), false)
    assert.throws(() => editor.getMarkdown(handle), /destroyed/)
    handle = null
  })
})
