//! Naming a relationship in plain English. The relationship finder walks the family graph
//! from person B to person A and hands over the path as [`Step`]s; [`describe`] says what A
//! is to B ("great-aunt", "second cousin once removed", "mother-in-law", "half-brother") and
//! [`sentence`] puts that in a sentence ("Rose is Tom's great-aunt"). Pure words: the walking,
//! and deciding whether a relationship is "half", belong to the finder.

use serde::{Deserialize, Serialize};

// The API and the stored relationships use the same three enums; re-exported so callers can
// name everything kinship takes from here.
pub use types::{ParentKind, PartnerKind, Sex};

/// One edge walked, from the previous person to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The next person is a parent of the previous one.
    Parent { kind: ParentKind },
    /// The next person is a child of the previous one.
    Child { kind: ParentKind },
    /// The next person is a partner of the previous one.
    Partner { kind: PartnerKind },
}

/// What [`describe`] says of an empty path; [`sentence`] words it differently.
pub const SAME_PERSON: &str = "the same person";

/// What the relationship is called, e.g. "great-aunt", "second cousin once removed", "mother-in-law", "half-brother".
///
/// `path` goes from B to A; `sex` is A's and picks the word ("aunt", "uncle", or "aunt or uncle"
/// when unknown); `half` says the blood part of the path shares only one of the two parents at
/// its top and only changes sibling, aunt/uncle, niece/nephew and cousin words.
pub fn describe(path: &[Step], half: bool, sex: Sex) -> String {
    let partners: Vec<usize> =
        path.iter().enumerate().filter(|(_, step)| matches!(step, Step::Partner { .. })).map(|(i, _)| i).collect();
    let named = match partners.as_slice() {
        [] => without_partner(path, half, sex),
        [at] => with_one_partner(path, *at, half, sex),
        // Two marriages away has no English word that people would recognise.
        _ => None,
    };
    named.unwrap_or_else(|| fallback(path))
}

/// "Rose is Tom's great-aunt" for what A (`a_name`) is to B (`b_name`).
pub fn sentence(a_name: &str, b_name: &str, relation: &str) -> String {
    if relation == SAME_PERSON {
        // "Rose is Rose's the same person" reads badly; the finder was asked about one person twice.
        format!("That is {a_name}")
    } else {
        // Always "'s", also after an s ("James's"): the modern house style, and never wrong.
        format!("{a_name} is {b_name}'s {relation}")
    }
}

/// The words for one kind of relative. `neutral` is `None` where English has no common
/// neutral word, so an unknown sex gets both ("aunt or uncle") rather than a coinage.
struct Lexeme {
    female: &'static str,
    male: &'static str,
    neutral: Option<&'static str>,
}

const PARENT: Lexeme = Lexeme { female: "mother", male: "father", neutral: Some("parent") };
const CHILD: Lexeme = Lexeme { female: "daughter", male: "son", neutral: Some("child") };
const SIBLING: Lexeme = Lexeme { female: "sister", male: "brother", neutral: Some("sibling") };
const GRANDPARENT: Lexeme = Lexeme { female: "grandmother", male: "grandfather", neutral: Some("grandparent") };
const GRANDCHILD: Lexeme = Lexeme { female: "granddaughter", male: "grandson", neutral: Some("grandchild") };
const AUNT: Lexeme = Lexeme { female: "aunt", male: "uncle", neutral: None };
const NIECE: Lexeme = Lexeme { female: "niece", male: "nephew", neutral: None };
const SPOUSE: Lexeme = Lexeme { female: "wife", male: "husband", neutral: Some("spouse") };

impl Lexeme {
    /// The word for `sex`, built from the base word by `shape` ("aunt" → "great-aunt"). Shaping
    /// each base, not the joined pair, gives "great-aunt or great-uncle", not "great-aunt or uncle".
    fn render(&self, sex: Sex, shape: impl Fn(&str) -> String) -> String {
        match (sex, self.neutral) {
            (Sex::Female, _) => shape(self.female),
            (Sex::Male, _) => shape(self.male),
            (Sex::Unknown, Some(neutral)) => shape(neutral),
            (Sex::Unknown, None) => format!("{} or {}", shape(self.female), shape(self.male)),
        }
    }

    fn plain(&self, sex: Sex) -> String {
        self.render(sex, str::to_string)
    }
}

/// A blood path: `up` Parent steps to the common ancestor, then `down` Child steps.
#[derive(Debug, Clone, Copy)]
struct Blood {
    up: usize,
    down: usize,
}

/// The path as a blood path, if it is one (only Parent steps, then only Child steps).
fn blood(path: &[Step]) -> Option<Blood> {
    let up = path.iter().take_while(|step| matches!(step, Step::Parent { .. })).count();
    let rest = path.get(up..)?;
    rest.iter().all(|step| matches!(step, Step::Child { .. })).then_some(Blood { up, down: rest.len() })
}

/// "great-" once or twice, then as a count: "great-great-grandmother", "3× great-grandmother".
/// Past two, a count is what genealogists write and what a reader can take in.
fn greats(count: usize, base: &str) -> String {
    match count {
        0 => base.to_string(),
        1 => format!("great-{base}"),
        2 => format!("great-great-{base}"),
        n => format!("{n}× great-{base}"),
    }
}

/// The word for a blood relation of `b`'s shape, with A's `sex`.
fn blood_word(b: Blood, half: bool, sex: Sex) -> String {
    let half_ = if half { "half-" } else { "" };
    match (b.up, b.down) {
        (0, 0) => SAME_PERSON.to_string(),
        (1, 0) => PARENT.plain(sex),
        (up, 0) => GRANDPARENT.render(sex, |w| greats(up - 2, w)),
        (0, 1) => CHILD.plain(sex),
        (0, down) => GRANDCHILD.render(sex, |w| greats(down - 2, w)),
        (1, 1) => SIBLING.render(sex, |w| format!("{half_}{w}")),
        (1, down) => NIECE.render(sex, |w| format!("{half_}{}", greats(down - 2, w))),
        (up, 1) => AUNT.render(sex, |w| format!("{half_}{}", greats(up - 2, w))),
        (up, down) => cousin(up.min(down) - 1, up.abs_diff(down), half),
    }
}

/// "first cousin", "second cousin once removed", "half first cousin". Cousin words have no sex.
fn cousin(degree: usize, removed: usize, half: bool) -> String {
    let half = if half { "half " } else { "" };
    let removed = match removed {
        0 => String::new(),
        1 => " once removed".to_string(),
        2 => " twice removed".to_string(),
        n => format!(" {n} times removed"),
    };
    format!("{half}{} cousin{removed}", ordinal(degree))
}

/// Ordinals in words up to tenth (as cousins are usually named), then in figures: "11th", "21st".
fn ordinal(n: usize) -> String {
    const WORDS: [&str; 10] =
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];
    if let Some(word) = n.checked_sub(1).and_then(|i| WORDS.get(i)) {
        return (*word).to_string();
    }
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn parent_kind(step: &Step) -> Option<ParentKind> {
    match step {
        Step::Parent { kind } | Step::Child { kind } => Some(*kind),
        Step::Partner { .. } => None,
    }
}

/// Paths of Parent and Child steps only.
fn without_partner(path: &[Step], half: bool, sex: Sex) -> Option<String> {
    // One step of a non-birth kind is named by its kind; in longer paths kinds are ignored
    // (an adoptive grandmother is a grandmother) except for step relations below.
    match path {
        [Step::Parent { kind: ParentKind::Adoptive }] => return Some(PARENT.render(sex, |w| format!("adoptive {w}"))),
        [Step::Parent { kind: ParentKind::Step }] => return Some(PARENT.render(sex, |w| format!("step{w}"))),
        [Step::Parent { kind: ParentKind::Foster }] => return Some(PARENT.render(sex, |w| format!("foster {w}"))),
        [Step::Child { kind: ParentKind::Adoptive }] => return Some(CHILD.render(sex, |w| format!("adopted {w}"))),
        [Step::Child { kind: ParentKind::Step }] => return Some(CHILD.render(sex, |w| format!("step{w}"))),
        [Step::Child { kind: ParentKind::Foster }] => return Some(CHILD.render(sex, |w| format!("foster {w}"))),
        // The other parent of one's child: no blood tie and maybe no partnership either.
        [Step::Child { .. }, Step::Parent { .. }] => return Some("child's other parent".to_string()),
        _ => {}
    }
    let b = blood(path)?;
    // A step link makes the simple shapes step relations: a stepparent's child, a parent's
    // stepchild, a stepparent's mother. Step aunts and cousins are rare enough to stay plain.
    if path.iter().any(|step| parent_kind(step) == Some(ParentKind::Step)) {
        match (b.up, b.down) {
            (1, 1) => return Some(SIBLING.render(sex, |w| format!("step-{w}"))),
            (up, 0) => return Some(GRANDPARENT.render(sex, |w| format!("step-{}", greats(up - 2, w)))),
            (0, down) => return Some(GRANDCHILD.render(sex, |w| format!("step-{}", greats(down - 2, w)))),
            _ => {}
        }
    }
    Some(blood_word(b, half, sex))
}

/// Paths with exactly one Partner step, at index `at`.
fn with_one_partner(path: &[Step], at: usize, half: bool, sex: Sex) -> Option<String> {
    let Some(Step::Partner { kind }) = path.get(at) else { return None };
    let before = path.get(..at)?;
    let after = path.get(at + 1..)?;
    // The in-law and step words outlive a divorce only as "former".
    let former = if *kind == PartnerKind::Divorced { "former " } else { "" };

    if before.is_empty() && after.is_empty() {
        return Some(match kind {
            PartnerKind::Married => SPOUSE.plain(sex),
            PartnerKind::Partnered => "partner".to_string(),
            PartnerKind::Divorced => SPOUSE.render(sex, |w| format!("ex-{w}")),
        });
    }

    if before.is_empty() {
        // B's partner's relatives.
        let b = blood(after)?;
        let word = match (b.up, b.down) {
            (1, 0) => PARENT.render(sex, |w| format!("{w}-in-law")),
            (up, 0) => GRANDPARENT.render(sex, |w| format!("{}-in-law", greats(up - 2, w))),
            (0, 1) => CHILD.render(sex, |w| format!("step{w}")),
            (1, 1) => SIBLING.render(sex, |w| format!("{w}-in-law")),
            _ => {
                let whose = match kind {
                    PartnerKind::Married => "spouse's",
                    PartnerKind::Partnered => "partner's",
                    PartnerKind::Divorced => "ex-spouse's",
                };
                // "ex-spouse's" already says it; no "former" on top.
                return Some(format!("{whose} {}", blood_word(b, half, sex)));
            }
        };
        return Some(format!("{former}{word}"));
    }

    if after.is_empty() {
        // Partners of B's blood relatives. The finder only gives these when A is not also a
        // blood relative (a parent's partner who is not one's parent).
        let b = blood(before)?;
        let word = match (b.up, b.down) {
            (1, 0) => PARENT.render(sex, |w| format!("step{w}")),
            (up, 0) => GRANDPARENT.render(sex, |w| format!("step-{}", greats(up - 2, w))),
            (0, 1) => CHILD.render(sex, |w| format!("{w}-in-law")),
            (0, down) => GRANDCHILD.render(sex, |w| format!("{}-in-law", greats(down - 2, w))),
            // A half-sibling's wife is simply a sister-in-law.
            (1, 1) => SIBLING.render(sex, |w| format!("{w}-in-law")),
            (1, down) => NIECE.render(sex, |w| format!("{}-in-law", greats(down - 2, w))),
            // Aunts, uncles and cousins: the "-in-law" forms are not English.
            _ => format!("{} by marriage", blood_word(b, half, sex)),
        };
        return Some(format!("{former}{word}"));
    }

    // A parent's partner's child who is not one's sibling (the finder checks that).
    if let ([Step::Parent { .. }], [Step::Child { .. }]) = (before, after) {
        return Some(format!("{former}{}", SIBLING.render(sex, |w| format!("step-{w}"))));
    }
    None
}

/// Shapes without a common name: what kind of relative, and how far ("relative (5 steps)").
fn fallback(path: &[Step]) -> String {
    let noun =
        if path.iter().any(|step| matches!(step, Step::Partner { .. })) { "relative by marriage" } else { "relative" };
    let steps = path.len();
    let plural = if steps == 1 { "" } else { "s" };
    format!("{noun} ({steps} step{plural})")
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Step = Step::Parent { kind: ParentKind::Birth };
    const C: Step = Step::Child { kind: ParentKind::Birth };
    const P_ADOPT: Step = Step::Parent { kind: ParentKind::Adoptive };
    const P_STEP: Step = Step::Parent { kind: ParentKind::Step };
    const P_FOSTER: Step = Step::Parent { kind: ParentKind::Foster };
    const C_ADOPT: Step = Step::Child { kind: ParentKind::Adoptive };
    const C_STEP: Step = Step::Child { kind: ParentKind::Step };
    const C_FOSTER: Step = Step::Child { kind: ParentKind::Foster };
    const MARRIED: Step = Step::Partner { kind: PartnerKind::Married };
    const PARTNERED: Step = Step::Partner { kind: PartnerKind::Partnered };
    const DIVORCED: Step = Step::Partner { kind: PartnerKind::Divorced };

    const F: Sex = Sex::Female;
    const M: Sex = Sex::Male;
    const U: Sex = Sex::Unknown;

    #[test]
    fn describes_relationships() {
        #[rustfmt::skip]
        let cases: &[(&[Step], bool, Sex, &str)] = &[
            // Self and the direct line, each sex, and the "3×" count from the third "great".
            (&[], false, F, "the same person"),
            (&[P], false, F, "mother"),
            (&[P], false, M, "father"),
            (&[P], false, U, "parent"),
            (&[P, P], false, F, "grandmother"),
            (&[P, P], false, U, "grandparent"),
            (&[P, P, P], false, M, "great-grandfather"),
            (&[P, P, P, P], false, F, "great-great-grandmother"),
            (&[P, P, P, P, P], false, F, "3× great-grandmother"),
            (&[P, P, P, P, P, P, P], false, U, "5× great-grandparent"),
            (&[C], false, F, "daughter"),
            (&[C], false, M, "son"),
            (&[C], false, U, "child"),
            (&[C, C], false, M, "grandson"),
            (&[C, C, C], false, F, "great-granddaughter"),
            (&[C, C, C, C], false, U, "great-great-grandchild"),
            (&[C, C, C, C, C], false, M, "3× great-grandson"),
            // Siblings, half and whole; half is ignored where there is no sibling shape.
            (&[P, C], false, F, "sister"),
            (&[P, C], false, M, "brother"),
            (&[P, C], false, U, "sibling"),
            (&[P, C], true, F, "half-sister"),
            (&[P, C], true, M, "half-brother"),
            (&[P, C], true, U, "half-sibling"),
            (&[P, P], true, F, "grandmother"),
            // Nieces, nephews, aunts, uncles.
            (&[P, C, C], false, F, "niece"),
            (&[P, C, C], false, M, "nephew"),
            (&[P, C, C], false, U, "niece or nephew"),
            (&[P, C, C], true, M, "half-nephew"),
            (&[P, C, C, C], false, F, "great-niece"),
            (&[P, C, C, C, C], false, M, "great-great-nephew"),
            (&[P, C, C, C, C, C], false, F, "3× great-niece"),
            (&[P, P, C], false, F, "aunt"),
            (&[P, P, C], false, M, "uncle"),
            (&[P, P, C], false, U, "aunt or uncle"),
            (&[P, P, C], true, F, "half-aunt"),
            (&[P, P, C], true, M, "half-uncle"),
            (&[P, P, P, C], false, F, "great-aunt"),
            (&[P, P, P, C], false, U, "great-aunt or great-uncle"),
            (&[P, P, P, P, C], false, M, "great-great-uncle"),
            (&[P, P, P, P, P, C], false, F, "3× great-aunt"),
            // Cousins: degree from the shorter side, removal from the difference; no sex.
            (&[P, P, C, C], false, F, "first cousin"),
            (&[P, P, C, C], false, M, "first cousin"),
            (&[P, P, C, C], true, U, "half first cousin"),
            (&[P, P, P, C, C, C], false, U, "second cousin"),
            (&[P, P, P, C, C], false, F, "first cousin once removed"),
            (&[P, P, C, C, C], false, M, "first cousin once removed"),
            (&[P, P, P, P, C, C, C], false, F, "second cousin once removed"),
            (&[P, P, P, P, P, P, C, C, C, C], false, M, "third cousin twice removed"),
            (&[P, P, C, C, C, C, C], false, U, "first cousin 3 times removed"),
            (&[P, P, P, P, P, P, P, P, P, P, P, C, C, C, C, C, C, C, C, C, C, C], false, U, "tenth cousin"),
            (&[P, P, P, P, P, P, P, P, P, P, P, P, C, C, C, C, C, C, C, C, C, C, C, C], false, U, "11th cousin"),
            // Kinds on a single step.
            (&[P_ADOPT], false, F, "adoptive mother"),
            (&[P_ADOPT], false, U, "adoptive parent"),
            (&[P_STEP], false, F, "stepmother"),
            (&[P_STEP], false, M, "stepfather"),
            (&[P_FOSTER], false, F, "foster mother"),
            (&[C_ADOPT], false, F, "adopted daughter"),
            (&[C_ADOPT], false, M, "adopted son"),
            (&[C_STEP], false, F, "stepdaughter"),
            (&[C_STEP], false, U, "stepchild"),
            (&[C_FOSTER], false, F, "foster daughter"),
            (&[C_FOSTER], false, U, "foster child"),
            // Kinds in longer paths: ignored, except that step links make step relations.
            (&[P_ADOPT, P], false, F, "grandmother"),
            (&[P, P_FOSTER, C], false, M, "uncle"),
            (&[P_STEP, C], false, F, "step-sister"),
            (&[P, C_STEP], true, M, "step-brother"),
            (&[P_STEP, P], false, F, "step-grandmother"),
            (&[C, C_STEP], false, M, "step-grandson"),
            (&[P_STEP, P, C], false, F, "aunt"),
            // Partners.
            (&[MARRIED], false, F, "wife"),
            (&[MARRIED], false, M, "husband"),
            (&[MARRIED], false, U, "spouse"),
            (&[PARTNERED], false, F, "partner"),
            (&[PARTNERED], false, M, "partner"),
            (&[DIVORCED], false, F, "ex-wife"),
            (&[DIVORCED], false, M, "ex-husband"),
            (&[DIVORCED], false, U, "ex-spouse"),
            // In-laws, both directions.
            (&[MARRIED, P], false, F, "mother-in-law"),
            (&[MARRIED, P], false, M, "father-in-law"),
            (&[PARTNERED, P], false, U, "parent-in-law"),
            (&[MARRIED, P, P], false, F, "grandmother-in-law"),
            (&[MARRIED, P, P, P], false, M, "great-grandfather-in-law"),
            (&[C, MARRIED], false, F, "daughter-in-law"),
            (&[C, MARRIED], false, M, "son-in-law"),
            (&[C, PARTNERED], false, U, "child-in-law"),
            (&[C, C, MARRIED], false, F, "granddaughter-in-law"),
            (&[P, C, MARRIED], false, F, "sister-in-law"),
            (&[P, C, MARRIED], true, F, "sister-in-law"),
            (&[MARRIED, P, C], false, M, "brother-in-law"),
            (&[MARRIED, P, C], false, U, "sibling-in-law"),
            (&[P, C, C, MARRIED], false, M, "nephew-in-law"),
            (&[DIVORCED, P], false, F, "former mother-in-law"),
            (&[C, DIVORCED], false, M, "former son-in-law"),
            // Step relations through a partner.
            (&[P, MARRIED], false, F, "stepmother"),
            (&[P, PARTNERED], false, M, "stepfather"),
            (&[P, MARRIED], false, U, "stepparent"),
            (&[P, P, MARRIED], false, M, "step-grandfather"),
            (&[MARRIED, C], false, F, "stepdaughter"),
            (&[MARRIED, C], false, M, "stepson"),
            (&[PARTNERED, C], false, U, "stepchild"),
            (&[P, MARRIED, C], false, F, "step-sister"),
            (&[P, MARRIED, C], false, M, "step-brother"),
            (&[P, PARTNERED, C], false, U, "step-sibling"),
            (&[P, DIVORCED], false, F, "former stepmother"),
            (&[P, DIVORCED, C], false, M, "former step-brother"),
            // Blood relatives' partners: "by marriage".
            (&[P, P, C, MARRIED], false, F, "aunt by marriage"),
            (&[P, P, C, MARRIED], false, M, "uncle by marriage"),
            (&[P, P, C, MARRIED], false, U, "aunt or uncle by marriage"),
            (&[P, P, P, C, MARRIED], false, F, "great-aunt by marriage"),
            (&[P, P, C, C, MARRIED], false, M, "first cousin by marriage"),
            (&[P, P, P, P, C, C, C, PARTNERED], false, U, "second cousin once removed by marriage"),
            (&[P, P, C, DIVORCED], false, M, "former uncle by marriage"),
            // Partners' blood relatives: "spouse's".
            (&[MARRIED, P, P, C], false, F, "spouse's aunt"),
            (&[PARTNERED, P, P, C], false, M, "partner's uncle"),
            (&[DIVORCED, P, P, C], false, U, "ex-spouse's aunt or uncle"),
            (&[MARRIED, P, P, C, C], false, U, "spouse's first cousin"),
            (&[MARRIED, P, C, C], true, F, "spouse's half-niece"),
            (&[MARRIED, C, C], false, M, "spouse's grandson"),
            // Other shapes.
            (&[C, P], false, F, "child's other parent"),
            (&[C, P, P], false, F, "relative (3 steps)"),
            (&[P, C, P, C, C], false, M, "relative (5 steps)"),
            (&[MARRIED, P, MARRIED], false, F, "relative by marriage (3 steps)"),
            (&[P, C, MARRIED, P, C], false, F, "relative by marriage (5 steps)"),
            (&[P, P, MARRIED, C], false, F, "relative by marriage (4 steps)"),
            (&[MARRIED, C, P], false, M, "relative by marriage (3 steps)"),
            (&[C, MARRIED, P], false, M, "relative by marriage (3 steps)"),
        ];
        let mut wrong = Vec::new();
        for (path, half, sex, expected) in cases {
            let got = describe(path, *half, *sex);
            if got != *expected {
                wrong.push(format!("{path:?} half={half} {sex:?}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));
    }

    #[test]
    fn puts_relationships_in_sentences() {
        let cases = [
            ("Rose", "Tom", "great-aunt", "Rose is Tom's great-aunt"),
            ("Rose", "James", "sister", "Rose is James's sister"),
            ("Agnes", "Thomas", "3× great-grandmother", "Agnes is Thomas's 3× great-grandmother"),
            ("Ann", "Lou", "relative by marriage (5 steps)", "Ann is Lou's relative by marriage (5 steps)"),
            ("Rose", "Rose", SAME_PERSON, "That is Rose"),
        ];
        for (a, b, relation, expected) in cases {
            assert_eq!(sentence(a, b, relation), expected);
        }
        assert_eq!(sentence("Rose", "Rose", &describe(&[], false, Sex::Female)), "That is Rose");
    }

    #[test]
    fn ordinals_past_tenth_use_figures() {
        let cases = [(1, "first"), (10, "tenth"), (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd")];
        for (n, expected) in cases {
            assert_eq!(ordinal(n), expected);
        }
        assert_eq!(ordinal(23), "23rd");
        assert_eq!(ordinal(111), "111th");
        assert_eq!(ordinal(101), "101st");
    }

    #[test]
    fn steps_travel_as_tagged_json() {
        let path = vec![P, C_STEP, DIVORCED];
        let json = serde_json::to_string(&path).unwrap();
        assert_eq!(
            json,
            r#"[{"step":"parent","kind":"birth"},{"step":"child","kind":"step"},{"step":"partner","kind":"divorced"}]"#
        );
        assert_eq!(serde_json::from_str::<Vec<Step>>(&json).unwrap(), path);
        assert_eq!(serde_json::to_string(&Sex::Unknown).unwrap(), r#""unknown""#);
    }
}
