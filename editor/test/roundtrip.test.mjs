// Markdown is the stored format of a story: what the editor reads back must
// serialize to the same text (after the normalizations listed here), and a
// second round trip must change nothing. Runs headless: no DOM needed.
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import * as source from '../src/editor.js'

// [name, input, expected output]; expected === null means "unchanged".
const CASES = [
  ['headings', '# One\n\n## Two\n\n### Three', null],
  ['paragraphs', 'First paragraph.\n\nSecond paragraph.', null],
  ['setext headings become ATX', 'Title\n=====\n\nSub\n---', '# Title\n\n## Sub'],
  ['bold, italic, strike, inline code', '**bold**, *italic*, ~~struck~~ and `code`.', null],
  ['underscore emphasis becomes asterisks', '_italic_ and __bold__', '*italic* and **bold**'],
  ['nested marks', '***both*** and **bold with *italic* inside**', null],
  ['nested bullet list', '- one\n- two\n  - two.a\n  - two.b\n- three', null],
  ['other bullet markers become dashes', '* star\n* list', '- star\n- list'],
  ['nested ordered list', '1. one\n2. two\n   1. two.one\n   2. two.two\n3. three', null],
  ['ordered list keeps its start', '3. three\n4. four', null],
  ['list items with marks and links', '1. **bold** item\n2. [link](/x)\n\n- *italic* item\n- `code` item', null],
  ['list item with a lazy continuation line', '1. one\n**two**', '1. one\n**two**'],
  ['ordered in bullet in ordered', '1. a\n   - b\n     1. c', null],
  ['bullet in ordered in bullet', '- a\n  1. b\n     - c', null],
  ['adjacent lists of one kind become one list', '- a\n- b\n\n* c\n\n1. x\n\n1) y', '- a\n- b\n- c\n\n1. x\n2. y'],
  ['parenthesis ordered marker becomes a dot', '1) first\n2) second', '1. first\n2. second'],
  ['loose list item with two paragraphs', '1. a\n\n   more about a\n2. b', null],
  ['links', '[Heirloom](https://example.com) and [titled](https://example.com/a "A title")', null],
  ['link with marks inside', '[**bold link**](https://example.com)', null],
  ['relative link', 'See [the legacy](/legacies/42).', null],
  ['autolink becomes a link', '<https://example.com>', '[https://example.com](https://example.com)'],
  ['block quotes', '> quoted\n> second line\n\n> another quote', null],
  ['block quote with heading and list', '> # Quoted heading\n>\n> - item one\n> - item two', null],
  ['inline code keeps special characters', 'Use `a < b && *c*` here', null],
  ['fenced code block with language', '```rust\nfn main() {\n    println!("hi");\n}\n```', null],
  ['fenced code block without language', '```\nplain\n```', null],
  ['tilde fences become backticks', '~~~\nx\n~~~', '```\nx\n```'],
  ['image', '![A photo of Grandma](/media/abc.jpg)', null],
  ['image with title', '![alt](https://example.com/a.png "Title")', null],
  ['image inside text', 'Before ![icon](/i.png) after', null],
  ['uploaded image', '![garden.jpg](/media/01J8ZK3/thumb-1920)', null],
  ['brackets in image text stay escaped', '![a \\[1\\] b\\]c](/media/x/thumb-960)', null],
  ['image destination with spaces', '![a](</x y.png>)', null],
  ['horizontal rule', 'Above\n\n---\n\nBelow', null],
  ['other rules become dashes', 'Above\n\n***\n\nMiddle\n\n___\n\nBelow', 'Above\n\n---\n\nMiddle\n\n---\n\nBelow'],
  ['hard break', 'line one  \nline two', null],
  ['backslash hard break becomes two spaces', 'line one\\\nline two', 'line one  \nline two'],
  ['hard break in a list item', '- a  \n  b', '- a  \nb'],
  ['literal block markers stay escaped', '1984\\. We moved.\n\n\\# not a heading\n\n\\- not a list\n\n\\+ nor this', null],
  ['literal setext underline stays escaped', 'Not a title\n\\===', null],
  ['literal inline markers are escaped', 'snake_case and a * b', 'snake\\_case and a \\* b'],
  ['trailing # in a heading stays text', '# Room \\#', null],
  ['raw HTML is kept as text', '<b>raw</b> & <script>x</script>', '&lt;b&gt;raw&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;'],
  ['tables are kept as text', '| a | b |\n|---|---|\n| 1 | 2 |', null],
  ['task checkboxes are kept as text', '- [ ] todo\n- [x] done', '- \\[ \\] todo\n- \\[x\\] done'],
  ['extra blank lines are kept', 'a\n\n\n\nb', null],
  ['unicode', 'Grüße – “quoted” … 家族', null],
  ['empty document', '', null],
]

function checkRoundTrip(roundTripMarkdown, input, expected) {
  const once = roundTripMarkdown(input)
  assert.equal(once, expected ?? input, 'first round trip')
  assert.equal(roundTripMarkdown(once), once, 'second round trip is stable')
}

describe('roundTripMarkdown (source)', () => {
  for (const [name, input, expected] of CASES) {
    test(name, () => checkRoundTrip(source.roundTripMarkdown, input, expected))
  }

  // Blocks next to each other interact (lazy continuation lines, lists that
  // merge), so check pairs too: each case followed by two others, with and
  // without a blank line between.
  test('pairs of cases are stable after one round trip', () => {
    const inputs = CASES.map(([, md]) => md)
    for (let i = 0; i < inputs.length; i += 1) {
      for (const j of [i + 1, i + Math.floor(inputs.length / 2)]) {
        for (const separator of ['\n\n', '\n']) {
          const input = inputs[i] + separator + inputs[j % inputs.length]
          const once = source.roundTripMarkdown(input)
          assert.equal(source.roundTripMarkdown(once), once, JSON.stringify(input))
        }
      }
    }
  })

  test('all at once, as one story', () => {
    const parts = CASES.filter(([name]) => !/empty|blank lines/.test(name))
    const input = parts.map(([, md]) => md).join('\n\n')
    const once = source.roundTripMarkdown(input)
    assert.equal(source.roundTripMarkdown(once), once)
    for (const [name, md, expected] of parts) {
      // Lists next to lists merge, so only check the self-contained blocks.
      if (!/list|bullet|ordered|task/.test(name)) {
        assert.ok(once.includes(expected ?? md), `story keeps: ${name}`)
      }
    }
  })
})

const here = dirname(fileURLToPath(import.meta.url))
const bundle = join(here, '..', '..', 'public', 'editor', 'editor.js')
const bundleState = !existsSync(bundle)
  ? 'missing'
  : statSync(bundle).mtimeMs < statSync(join(here, '..', 'src', 'editor.js')).mtimeMs
    ? 'stale'
    : 'fresh'

describe('built bundle public/editor/editor.js', () => {
  test(
    'exports the API and round-trips like the source',
    { skip: bundleState === 'fresh' ? false : `bundle is ${bundleState}: npm run build --prefix editor` },
    async () => {
      // As a data: URL, because app/ has no package.json saying "type": "module".
      const code = readFileSync(bundle).toString('base64')
      const built = await import(`data:text/javascript;base64,${code}`)
      const api = [
        'mountEditor',
        'getMarkdown',
        'setMarkdown',
        'focusEditor',
        'destroyEditor',
        'roundTripMarkdown',
        'toggleMark',
        'toggleNode',
        'setLink',
        'insertImage',
        'isActive',
      ]
      for (const name of api) {
        assert.equal(typeof built[name], 'function', `bundle exports ${name}`)
      }
      for (const [, input, expected] of CASES) {
        checkRoundTrip(built.roundTripMarkdown, input, expected)
      }
    },
  )
})
