//! Synthetic family-archive text and the searches people would type over it.
//!
//! Words follow a Zipf distribution over 200,000 ranks: the head is real English (see
//! `words`), the tail made-up pronounceable words, so both the common words every story
//! has and the long tail of rare ones are there. Each story has its own cast (first
//! names, mostly with the legacy's family name) and places, which recur in it as names
//! do in real memoirs. About 2% of stories are written in Chinese or Japanese.

use std::collections::HashSet;

use crate::words;

/// Ranks of the word distribution (real words first, then made-up ones).
const RANKS: usize = 200_000;
/// The Zipf exponent of English word frequencies is close to 1.
const ZIPF_S: f64 = 1.05;
/// The first ranks are function words ("the", "and", "was"…): no one searches for them.
const FUNCTION_WORDS: usize = 120;

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same archive.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Ranks `0..n` drawn with probability proportional to `1 / (rank + 1)^s`.
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut total = 0.0;
        let cdf = (0..n)
            .map(|rank| {
                total += 1.0 / ((rank + 1) as f64).powf(s);
                total
            })
            .collect();
        Zipf { cdf }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.f64() * self.cdf[self.cdf.len() - 1];
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

pub struct Vocabulary {
    /// Every rank's word: real ones, then made-up ones.
    pub ranked: Vec<String>,
    zipf: Zipf,
    /// Real words past the function words: what titles are made of and people search for.
    pub content: Vec<String>,
    content_zipf: Zipf,
    /// Flatter than the text's own distribution: searches lean to distinctive words.
    query_zipf: Zipf,
    pub first_names: Vec<&'static str>,
    pub surnames: Vec<&'static str>,
    pub places: Vec<&'static str>,
    pub themes: Vec<&'static str>,
    pub cjk: Vec<&'static str>,
    cjk_zipf: Zipf,
    pub cjk_names: Vec<&'static str>,
}

fn list(text: &'static str) -> Vec<&'static str> {
    let mut seen = HashSet::new();
    text.split_whitespace().filter(|w| seen.insert(*w)).collect()
}

impl Vocabulary {
    pub fn new() -> Vocabulary {
        let common = list(words::COMMON);
        let mut seen: HashSet<String> = common.iter().map(|w| w.to_string()).collect();
        let mut ranked: Vec<String> = common.iter().map(|w| w.to_string()).collect();
        let mut rng = Rng::new(7);
        while ranked.len() < RANKS {
            let word = made_up_word(&mut rng);
            if seen.insert(word.clone()) {
                ranked.push(word);
            }
        }
        let content: Vec<String> =
            common[FUNCTION_WORDS..].iter().filter(|w| !w.contains(['\'', '-'])).map(|w| w.to_string()).collect();
        let cjk = list(words::CJK_WORDS);
        Vocabulary {
            zipf: Zipf::new(ranked.len(), ZIPF_S),
            content_zipf: Zipf::new(content.len(), 0.9),
            query_zipf: Zipf::new(content.len(), 0.5),
            ranked,
            content,
            first_names: list(words::FIRST_NAMES),
            surnames: list(words::SURNAMES),
            places: list(words::PLACES),
            themes: list(words::THEMES),
            cjk_zipf: Zipf::new(cjk.len(), 0.9),
            cjk,
            cjk_names: list(words::CJK_NAMES),
        }
    }

    fn word(&self, rng: &mut Rng) -> &str {
        &self.ranked[self.zipf.sample(rng)]
    }

    fn content_word(&self, rng: &mut Rng) -> &str {
        &self.content[self.content_zipf.sample(rng)]
    }

    /// A word someone would search for.
    pub fn query_word(&self, rng: &mut Rng) -> &str {
        &self.content[self.query_zipf.sample(rng)]
    }

    /// A rare word from the long tail (a name, a dialect word, a misspelling in real text).
    pub fn rare_word(&self, rng: &mut Rng) -> &str {
        &self.ranked[rng.range(3_000, 60_000)]
    }

    fn cjk_word(&self, rng: &mut Rng) -> &str {
        self.cjk[self.cjk_zipf.sample(rng)]
    }

    pub fn cjk_query(&self, rng: &mut Rng) -> &str {
        // Past the particles 的 and 了.
        self.cjk[rng.range(2, self.cjk.len() - 1)]
    }
}

fn made_up_word(rng: &mut Rng) -> String {
    const ONSETS: &[&str] = &[
        "b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m", "n", "p", "pl", "r", "s",
        "sh", "st", "t", "th", "tr", "v", "w", "z",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ou", "ie", "y"];
    const CODAS: &[&str] = &["", "", "n", "r", "l", "s", "th", "nd", "st", "ck", "m", "x"];
    let mut word = String::new();
    for _ in 0..rng.range(2, 4) {
        word.push_str(rng.pick::<&str>(ONSETS));
        word.push_str(rng.pick::<&str>(VOWELS));
    }
    word.push_str(rng.pick::<&str>(CODAS));
    word
}

pub struct Story {
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
}

/// Who and where a story is about.
struct Cast<'a> {
    people: Vec<(&'a str, &'a str)>,
    places: Vec<&'a str>,
}

fn cast<'a>(v: &'a Vocabulary, rng: &mut Rng, family: &'a str) -> Cast<'a> {
    let people = (0..rng.range(2, 5))
        .map(|_| (*rng.pick(&v.first_names), if rng.chance(0.8) { family } else { *rng.pick(&v.surnames) }))
        .collect();
    let places = (0..rng.range(1, 3)).map(|_| *rng.pick(&v.places)).collect();
    Cast { people, places }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// One story of about `words` words (`cjk`: in Chinese or Japanese).
pub fn story(v: &Vocabulary, rng: &mut Rng, family: &str, cjk: bool) -> Story {
    let year = rng.range(1900, 2020);
    let mut tags = vec![format!("{}s", year / 10 * 10)];
    if cjk {
        tags.push(rng.pick(&v.themes).to_string());
        let title: String = (0..rng.range(2, 3)).map(|_| v.cjk_word(rng).to_string()).collect();
        return Story { title, body: cjk_body(v, rng), tags };
    }
    let cast = cast(v, rng, family);
    if rng.chance(0.5) {
        tags.push(rng.pick(&cast.places).to_lowercase());
    }
    for _ in 0..rng.range(1, 2) {
        tags.push(rng.pick(&v.themes).to_string());
    }
    tags.dedup();
    let words = rng.range(500, 1100);
    Story { title: title(v, rng, &cast, year), body: body(v, rng, &cast, words), tags }
}

fn title(v: &Vocabulary, rng: &mut Rng, cast: &Cast, year: usize) -> String {
    let (first, surname) = *rng.pick(&cast.people);
    let place = *rng.pick(&cast.places);
    let (a, b) = (v.content_word(rng).to_string(), v.content_word(rng).to_string());
    match rng.below(8) {
        0 => format!("The {a} {b}"),
        1 => format!("{first}'s {a}"),
        2 => format!("{} in {place}", capitalized(&a)),
        3 => format!("{} of {year}", rng.pick(&["Summer", "Winter", "Spring", "Autumn", "The year"])),
        4 => format!("When {first} {a} the {b}"),
        5 => format!("{} and {b}", capitalized(&a)),
        6 => format!("{} from {place}", capitalized(&a)),
        _ => format!("{first} {surname} and the {a}"),
    }
}

/// Markdown: paragraphs of sentences, now and then a heading or an emphasized word.
fn body(v: &Vocabulary, rng: &mut Rng, cast: &Cast, target: usize) -> String {
    let mut out = String::with_capacity(target * 7);
    let headings = rng.chance(0.12);
    let mut words = 0;
    while words < target {
        if headings && words > 0 && rng.chance(0.3) {
            out.push_str("## ");
            out.push_str(&capitalized(v.content_word(rng)));
            out.push(' ');
            out.push_str(v.content_word(rng));
            out.push_str("\n\n");
        }
        let sentences = rng.range(3, 7);
        for s in 0..sentences {
            let length = rng.range(6, 22);
            for w in 0..length {
                let r = rng.f64();
                let token: String = if r < 0.02 {
                    rng.pick(&cast.people).0.to_string()
                } else if r < 0.027 {
                    let (first, surname) = rng.pick(&cast.people);
                    words += 1;
                    format!("{first} {surname}")
                } else if r < 0.034 {
                    rng.pick(&cast.places).to_string()
                } else if r < 0.037 {
                    rng.range(1890, 2020).to_string()
                } else {
                    v.word(rng).to_string()
                };
                let token = if w == 0 { capitalized(&token) } else { token };
                if rng.chance(0.004) {
                    out.push('*');
                    out.push_str(&token);
                    out.push('*');
                } else {
                    out.push_str(&token);
                }
                words += 1;
                if w + 1 < length {
                    if rng.chance(0.07) {
                        out.push(',');
                    }
                    out.push(' ');
                }
            }
            out.push('.');
            if s + 1 < sentences {
                out.push(' ');
            }
        }
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out
}

fn cjk_body(v: &Vocabulary, rng: &mut Rng) -> String {
    let target = rng.range(400, 1000);
    let mut out = String::with_capacity(target * 8);
    let name = format!("{}{}", rng.pick(&v.cjk_names), v.cjk_word(rng));
    let mut words = 0;
    while words < target {
        for _ in 0..rng.range(3, 6) {
            for w in 0..rng.range(5, 14) {
                if w > 0 && rng.chance(0.15) {
                    out.push('，');
                }
                if rng.chance(0.04) {
                    out.push_str(&name);
                } else {
                    out.push_str(v.cjk_word(rng));
                }
                words += 1;
            }
            out.push('。');
        }
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out
}

/// A short description of a legacy.
pub fn summary(v: &Vocabulary, rng: &mut Rng, family: &str) -> String {
    let cast = cast(v, rng, family);
    let words = rng.range(20, 50);
    body(v, rng, &cast, words)
}

/// The first `3..=6` letters of `word` (all of it when shorter), lower-cased.
fn prefix(rng: &mut Rng, word: &str) -> String {
    let n = rng.range(3, 6);
    word.chars().take(n).collect::<String>().to_lowercase()
}

/// What people type into the search box, letter by letter (3 to 6 letters of the word
/// being typed, sometimes after a first whole word).
pub fn typeahead(v: &Vocabulary, rng: &mut Rng, count: usize) -> Vec<String> {
    (0..count)
        .map(|_| {
            let word = match rng.below(20) {
                0..=6 | 14..=15 => v.query_word(rng),
                7..=9 | 13 => *rng.pick(&v.first_names),
                10..=11 => *rng.pick(&v.surnames),
                12 => *rng.pick(&v.places),
                16 => v.rare_word(rng),
                17 => return rng.range(1900, 2019).to_string()[..3].to_string(),
                _ => {
                    let n = rng.range(1, 2);
                    return v.cjk_query(rng).chars().take(n).collect();
                }
            };
            let typed = prefix(rng, word);
            match rng.below(20) {
                // A first name, then the family name being typed.
                0..=2 => format!("{} {typed}", rng.pick(&v.first_names)),
                3..=5 => format!("{} {typed}", v.query_word(rng)),
                _ => typed,
            }
        })
        .collect()
}

/// Full searches as query-string pairs: one to three words, names, quoted phrases, a
/// little CJK, and a third of them with a filter or the newest-first order.
pub fn full(v: &Vocabulary, rng: &mut Rng, count: usize, legacies: &[String]) -> Vec<Vec<(&'static str, String)>> {
    (0..count)
        .map(|_| {
            let q = match rng.below(20) {
                0..=8 => v.query_word(rng).to_string(),
                9..=13 => format!("{} {}", v.query_word(rng), v.query_word(rng)),
                14..=15 => format!("{} {} {}", v.query_word(rng), v.query_word(rng), v.query_word(rng)),
                16 => format!("\"{} {}\"", rng.pick(&v.first_names), rng.pick(&v.surnames)),
                17 => format!("{} {}", rng.pick(&v.first_names), v.query_word(rng)),
                18 => rng.pick(&v.places).to_string(),
                _ => v.cjk_query(rng).to_string(),
            };
            let mut pairs = vec![("q", q)];
            let filter = rng.below(20);
            match filter {
                0..=2 => pairs.push(("tag", rng.pick(&v.themes).to_string())),
                3..=4 => pairs.push(("legacy", rng.pick(legacies).clone())),
                5 => pairs.push(("type", "story".into())),
                6 => pairs.push(("from", format!("{}-01-01", rng.range(2019, 2024)))),
                _ => {}
            }
            if rng.chance(0.1) {
                pairs.push(("sort", "newest".into()));
            }
            pairs
        })
        .collect()
}
