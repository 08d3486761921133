// cmtheme.js: CodeMirror colours for the dashboard's dark and light themes,
// chosen for at least 4.5:1 contrast on the editor background.
import { EditorView } from '@codemirror/view';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';

function theme(dark, c) {
  return [
    EditorView.theme({
      '&': { color: c.text, backgroundColor: c.bg },
      '&.cm-focused': { outline: `2px solid ${c.focus}`, outlineOffset: '-2px' },
      '.cm-content': { caretColor: c.caret },
      '.cm-cursor, .cm-dropCursor': { borderLeftColor: c.caret },
      '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection': { backgroundColor: c.selection },
      '.cm-activeLine': { backgroundColor: c.activeLine },
      '.cm-gutters': { backgroundColor: c.gutterBg, color: c.gutter, border: 'none' },
      '.cm-activeLineGutter': { backgroundColor: c.activeLine, color: c.text },
      '.cm-tooltip': { backgroundColor: c.gutterBg, color: c.text, border: `1px solid ${c.border}` },
      '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: c.selection, color: c.text },
      '.cm-matchingBracket': { backgroundColor: c.selection, outline: `1px solid ${c.border}` },
    }, { dark }),
    syntaxHighlighting(HighlightStyle.define([
      { tag: [t.keyword, t.operatorKeyword, t.modifier], color: c.keyword, fontWeight: '600' },
      { tag: [t.string, t.special(t.string)], color: c.string },
      { tag: [t.number, t.bool, t.null], color: c.number },
      { tag: [t.comment, t.lineComment, t.blockComment], color: c.comment, fontStyle: 'italic' },
      { tag: [t.typeName, t.standard(t.name)], color: c.type },
      { tag: [t.function(t.variableName), t.function(t.name)], color: c.func },
      { tag: [t.operator, t.punctuation, t.paren, t.squareBracket, t.brace, t.separator], color: c.punct },
      { tag: t.special(t.name), color: c.ident },
      { tag: t.invalid, color: c.invalid },
    ])),
  ];
}

export const darkEditor = theme(true, {
  bg: '#151b23', text: '#e6edf3', caret: '#ffd33d', focus: '#5fa8ff', selection: '#2d4a73', activeLine: '#1c2430',
  gutterBg: '#151b23', gutter: '#8b98a6', border: '#3d4a5a',
  keyword: '#ff9bce', string: '#a5e3a0', number: '#79c0ff', comment: '#9ba8b6', type: '#ffb870',
  func: '#d2b4ff', punct: '#c9d1d9', ident: '#e6edf3', invalid: '#ff8080',
});

export const lightEditor = theme(false, {
  bg: '#ffffff', text: '#1b222c', caret: '#0b62d6', focus: '#0b62d6', selection: '#cfe2ff', activeLine: '#f2f6fa',
  gutterBg: '#f5f7fa', gutter: '#56616e', border: '#b8c2cd',
  keyword: '#a0106b', string: '#116329', number: '#0550ae', comment: '#56616e', type: '#8a4600',
  func: '#6639ba', punct: '#1b222c', ident: '#1b222c', invalid: '#b31d28',
});
