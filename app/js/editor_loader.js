// Loads the TipTap bundle (public/editor/editor.js, built from editor/) the first time
// an editor mounts, so pages that only read never download it.
let loading;

export function loadEditor() {
  loading ??= import('/editor/editor.js');
  return loading;
}
