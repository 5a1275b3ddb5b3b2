//! The built-in library of story prompts (`prompts.tsv`, compiled into the binary):
//! one prompt per line as `id<TAB>theme<TAB>text`, `#` starts a comment.

use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub id: &'static str,
    pub theme: &'static str,
    pub text: &'static str,
}

const SOURCE: &str = include_str!("prompts.tsv");

static PROMPTS: LazyLock<Vec<Prompt>> = LazyLock::new(|| parse(SOURCE));

/// Every prompt, in file order.
pub fn all() -> &'static [Prompt] {
    &PROMPTS
}

pub fn by_id(id: &str) -> Option<&'static Prompt> {
    PROMPTS.iter().find(|p| p.id == id)
}

/// Lines that are not `id<TAB>theme<TAB>text` are skipped (the test below keeps the
/// file free of them).
fn parse(source: &'static str) -> Vec<Prompt> {
    source
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let mut fields = line.splitn(3, '\t');
            let (id, theme, text) = (fields.next()?.trim(), fields.next()?.trim(), fields.next()?.trim());
            (!id.is_empty() && !theme.is_empty() && !text.is_empty()).then_some(Prompt { id, theme, text })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    #[test]
    fn the_library_has_at_least_a_hundred_prompts_tagged_by_theme() {
        let lines = SOURCE.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).count();
        assert_eq!(all().len(), lines, "every non-comment line is a well-formed prompt");
        assert!(all().len() >= 100, "{} prompts", all().len());
        let ids: HashSet<&str> = all().iter().map(|p| p.id).collect();
        assert_eq!(ids.len(), all().len(), "prompt ids are unique");
        let mut themes: HashMap<&str, usize> = HashMap::new();
        for prompt in all() {
            *themes.entry(prompt.theme).or_default() += 1;
            // Themes become part of the recommender's arm keys (`prompt:<theme>:<bucket>`).
            assert!(prompt.theme.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{prompt:?}");
            assert!(prompt.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{prompt:?}");
            assert!(prompt.text.ends_with('?') || prompt.text.ends_with('.'), "{prompt:?}");
        }
        assert!(themes.len() >= 8, "{themes:?}");
        assert!(themes.values().all(|n| *n >= 5), "every theme has a handful of prompts: {themes:?}");
        assert_eq!(by_id("childhood-01").map(|p| p.theme), Some("childhood"));
    }
}
