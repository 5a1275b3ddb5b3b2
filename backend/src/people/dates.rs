//! Genealogical dates: what people type and what GEDCOM files say ("about 1921",
//! "BET 1880 AND 1885", "12 MAR 1921", "March 12, 1921"), parsed into a [`GenDate`] that keeps
//! the original text, shows itself in plain English and in GEDCOM 7, and gives timelines a sort
//! key and plausibility checks their bounds. Only the Gregorian calendar is understood; dates in
//! other calendars, and free-text date phrases, are kept as phrases.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qualifier {
    Exact,
    About,
    Calculated,
    Estimated,
    Before,
    After,
    Between,
    FromTo,
}

/// The two ways a date is written: for people, and in GEDCOM files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Language {
    English,
    Gedcom,
}

/// A day, month or year as precise as the source gave it. Ordered by year, month, day with a
/// missing part first, which is chronological only for whole days: compare the bounds of
/// [`GenDate::earliest`] and [`GenDate::latest`], not partial dates ("1921" is not before "MAR 1921").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DatePart {
    pub year: i32,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenDate {
    /// What the person typed or the GEDCOM file said, kept as given (less surrounding whitespace).
    pub original: String,
    pub qualifier: Qualifier,
    /// `None` only for a phrase: text that is kept but not understood.
    pub start: Option<DatePart>,
    /// The second date of Between and FromTo; `None` for an open "from 1914".
    pub end: Option<DatePart>,
}

/// Why a text is not a date, as a sentence to show next to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateError {
    pub message: String,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DateError {}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const GEDCOM_MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/// GEDCOM 7 calendar names other than Gregorian, which may start a date ("JULIAN 12 MAR 1700").
const OTHER_CALENDARS: [&str; 3] = ["julian", "hebrew", "french_r"];

/// Reads a date, ignoring case and surrounding whitespace. Accepted: GEDCOM's "12 MAR 1921",
/// "MAR 1921", "1921", "ABT", "CAL", "EST", "BEF", "AFT", "BET … AND …", "FROM … TO …", "FROM …",
/// "TO …" (read as before), "INT date (text)" (read as about) and "(text)" phrases; English
/// "12 March 1921", "March 12, 1921", "March 1921", "about"/"abt."/"c."/"ca"/"circa"/"~",
/// "calculated", "estimated", "before", "after", "between … and …", "from … to …" and
/// "1880–1885"; ISO "1921-03-12" and "1921-03". Years are 1–9999 written with three or more
/// digits. A "@#DGREGORIAN@" escape is dropped; other calendars are kept as phrases.
pub fn parse(text: &str) -> Result<GenDate, DateError> {
    let original = text.trim();
    if original.is_empty() {
        return Err(DateError { message: "Enter a date, or leave the field empty.".to_string() });
    }
    let phrase = || GenDate { original: original.to_string(), qualifier: Qualifier::Exact, start: None, end: None };
    // A GEDCOM date phrase: kept as written, never interpreted.
    if original.starts_with('(') && original.ends_with(')') {
        return Ok(phrase());
    }
    let understood = strip_calendar_escapes(&original.to_lowercase()).and_then(|body| understand(&body));
    match understood {
        Ok((qualifier, start, end)) => {
            Ok(GenDate { original: original.to_string(), qualifier, start: Some(start), end })
        }
        Err(Problem::OtherCalendar) => Ok(phrase()),
        Err(problem) => Err(problem.error(original)),
    }
}

impl GenDate {
    /// Plain English: "12 March 1921", "about 1921", "between 1880 and 1885"; a phrase as given.
    pub fn display(&self) -> String {
        let Some(start) = self.start else { return self.original.clone() };
        self.written(start, DatePart::display, Language::English)
    }

    /// GEDCOM 7: "12 MAR 1921", "ABT 1921", "BET 1880 AND 1885"; a phrase in parentheses.
    pub fn gedcom(&self) -> String {
        let Some(start) = self.start else {
            let inner = self.original.strip_prefix('(').and_then(|s| s.strip_suffix(')')).unwrap_or(&self.original);
            return format!("({inner})");
        };
        self.written(start, DatePart::gedcom, Language::Gedcom)
    }

    /// The qualifier's words around the start (and end) written with `part`. A Between
    /// without an end (parsing never gives one; built by hand) bounds only from below.
    fn written(&self, start: DatePart, part: fn(&DatePart) -> String, language: Language) -> String {
        let english = language == Language::English;
        let word =
            |english_word: &'static str, gedcom_word: &'static str| if english { english_word } else { gedcom_word };
        let start = part(&start);
        let prefix = match (self.qualifier, self.end) {
            (Qualifier::Exact, _) => return start,
            (Qualifier::About, _) => word("about", "ABT"),
            (Qualifier::Calculated, _) => word("calculated", "CAL"),
            (Qualifier::Estimated, _) => word("estimated", "EST"),
            (Qualifier::Before, _) => word("before", "BEF"),
            (Qualifier::After, _) | (Qualifier::Between, None) => word("after", "AFT"),
            (Qualifier::Between, Some(end)) => {
                return format!("{} {start} {} {}", word("between", "BET"), word("and", "AND"), part(&end))
            }
            (Qualifier::FromTo, Some(end)) => {
                return format!("{} {start} {} {}", word("from", "FROM"), word("to", "TO"), part(&end))
            }
            (Qualifier::FromTo, None) => word("from", "FROM"),
        };
        format!("{prefix} {start}")
    }

    /// For ordering timelines: year×10000 + month×100 + day, missing parts as 0, so "1921"
    /// comes before "March 1921"; "before" a date sorts just ahead of it and "after" just behind
    /// its start. `None` for a phrase.
    pub fn sort_key(&self) -> Option<i64> {
        let key = self.start?.key();
        Some(match self.qualifier {
            Qualifier::Before => key - 1,
            Qualifier::After => key + 1,
            _ => key,
        })
    }

    /// The earliest day the event can have been, for plausibility checks: "MAR 1921" → 1 March
    /// 1921. `None` when unbounded ("before 1930") or a phrase. The bounds are generous so a
    /// check never refuses what the date could mean: "after 1930" may be in 1930, and About
    /// and Estimated are not widened (callers allow their own slack).
    pub fn earliest(&self) -> Option<DatePart> {
        match self.qualifier {
            Qualifier::Before => None,
            _ => self.start.map(|start| start.first_day()),
        }
    }

    /// The latest day the event can have been: "1921" → 31 December 1921, "before 1930" →
    /// 31 December 1930 (generous, as [`GenDate::earliest`]). `None` when unbounded ("after
    /// 1930", "from 1914") or a phrase.
    pub fn latest(&self) -> Option<DatePart> {
        let last = match self.qualifier {
            Qualifier::After => None,
            Qualifier::Between | Qualifier::FromTo => self.end,
            _ => self.start,
        };
        last.map(|last| last.last_day())
    }

    /// The (start) year, for "1921–1999" life years and search.
    pub fn year(&self) -> Option<i32> {
        self.start.map(|part| part.year)
    }
}

impl DatePart {
    /// "12 March 1921", "March 1921", "1921".
    pub fn display(&self) -> String {
        self.written(&MONTHS)
    }

    /// "12 MAR 1921", "MAR 1921", "1921".
    pub fn gedcom(&self) -> String {
        self.written(&GEDCOM_MONTHS)
    }

    /// Day, month (named from `months`) and year, as far as they are known.
    fn written(&self, months: &[&'static str; 12]) -> String {
        let year = year_text(self.year);
        match (self.month.and_then(|m| month_name(months, m)), self.day) {
            (Some(month), Some(day)) => format!("{day} {month} {year}"),
            (Some(month), None) => format!("{month} {year}"),
            (None, _) => year,
        }
    }

    /// year×10000 + month×100 + day, missing parts as 0 (see [`GenDate::sort_key`]).
    pub fn key(&self) -> i64 {
        i64::from(self.year) * 10_000 + i64::from(self.month.unwrap_or(0)) * 100 + i64::from(self.day.unwrap_or(0))
    }

    /// The first day the part may mean: "1921" → 1 January 1921.
    pub fn first_day(&self) -> DatePart {
        DatePart { year: self.year, month: Some(self.month.unwrap_or(1)), day: Some(self.day.unwrap_or(1)) }
    }

    /// The last day the part may mean: "FEB 1920" → 29 February 1920.
    pub fn last_day(&self) -> DatePart {
        let month = self.month.unwrap_or(12);
        DatePart {
            year: self.year,
            month: Some(month),
            day: Some(self.day.unwrap_or_else(|| days_in_month(self.year, month))),
        }
    }
}

/// Years are written in full; below 100 they are padded ("0012") because [`parse`] takes a one-
/// or two-digit year for a mistake ("March 12", "12 Mar 21"), so the output must read back.
fn year_text(year: i32) -> String {
    if (0..100).contains(&year) {
        format!("{year:04}")
    } else {
        year.to_string()
    }
}

fn month_name(names: &[&'static str; 12], month: u8) -> Option<&'static str> {
    usize::from(month).checked_sub(1).and_then(|i| names.get(i)).copied()
}

fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// What is wrong with a text; [`Problem::error`] words it with the text itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    NotUnderstood,
    /// No year, or one of only one or two digits, which is more likely a day or a shortened year.
    NoYear,
    TooEarly,
    TooLate,
    NotADay {
        year: i32,
        month: u8,
    },
    NoMonth(u64),
    NoEnd,
    EndsBeforeStart,
    /// Not a problem for [`parse`]: the date is in another calendar and is kept as a phrase.
    OtherCalendar,
}

impl Problem {
    fn error(self, text: &str) -> DateError {
        let message = match self {
            Problem::NotUnderstood | Problem::OtherCalendar => format!(
                "“{text}” is not a date Heirloom understands: write 12 March 1921, March 1921, 1921, about 1921, \
                 before 1930, after 1930 or between 1880 and 1885."
            ),
            Problem::NoYear => format!("“{text}” needs a year written in full, e.g. 12 March 1921 or 1921."),
            Problem::TooEarly => format!("“{text}” is too early: years before 1 AD are not supported."),
            Problem::TooLate => format!("“{text}” is too late: years after 9999 are not supported."),
            Problem::NotADay { year, month } => {
                let days = days_in_month(year, month);
                let month = month_name(&MONTHS, month).unwrap_or("that month");
                format!("“{text}” is not a day of the calendar: {month} {year} has {days} days.")
            }
            Problem::NoMonth(month) => format!("“{text}” is not a day of the calendar: there is no month {month}."),
            Problem::NoEnd => format!("“{text}” needs an end, as in between 1880 and 1885."),
            Problem::EndsBeforeStart => format!("“{text}” ends before it starts."),
        };
        DateError { message }
    }
}

/// Removes GEDCOM 5 calendar escapes ("@#DGREGORIAN@"); any other calendar makes the whole
/// text a phrase, since converting calendars is not this module's business.
fn strip_calendar_escapes(lower: &str) -> Result<String, Problem> {
    let mut body = String::new();
    let mut rest = lower;
    while let Some(at) = rest.find("@#d") {
        body.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 3..).unwrap_or_default();
        let close = after.find('@').ok_or(Problem::NotUnderstood)?;
        if after.get(..close).map(str::trim) != Some("gregorian") {
            return Err(Problem::OtherCalendar);
        }
        body.push(' ');
        rest = after.get(close + 1..).unwrap_or_default();
    }
    body.push_str(rest);
    Ok(body)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Number {
    value: u64,
    digits: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Num(Number),
    Word(String),
    /// "-", "–" or "—".
    Dash,
    Tilde,
    /// "(" and whatever follows: the free text of a GEDCOM "INT date (text)".
    Phrase,
}

/// Splits lowercased text into numbers, words and the few signs dates use. Full stops and
/// commas only separate ("abt. 1921", "March 12, 1921"); `None` for any other character.
fn tokenize(text: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_ascii_digit() {
            let mut number = Number { value: 0, digits: 0 };
            while let Some(digit) = chars.get(i).and_then(|d| d.to_digit(10)) {
                number.value = number.value.saturating_mul(10).saturating_add(u64::from(digit));
                number.digits += 1;
                i += 1;
            }
            tokens.push(Token::Num(number));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let mut word = String::new();
            while let Some(&w) = chars.get(i).filter(|w| w.is_alphabetic() || **w == '_') {
                word.push(w);
                i += 1;
            }
            // "12th March", "March 1st": the suffix adds nothing.
            let ordinal_suffix = matches!(word.as_str(), "st" | "nd" | "rd" | "th");
            if !(ordinal_suffix && matches!(tokens.last(), Some(Token::Num(_)))) {
                tokens.push(Token::Word(word));
            }
            continue;
        }
        match c {
            '.' | ',' => {}
            c if c.is_whitespace() => {}
            '-' | '–' | '—' => tokens.push(Token::Dash),
            '~' => tokens.push(Token::Tilde),
            '&' => tokens.push(Token::Word("and".to_string())),
            '(' => {
                tokens.push(Token::Phrase);
                break;
            }
            _ => return None,
        }
        i += 1;
    }
    Some(tokens)
}

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w == word)
}

/// "BC", "BCE", "B.C." (read as "b" then "c") anywhere.
fn is_before_christ(tokens: &[Token]) -> bool {
    tokens.iter().any(|t| is_word(t, "bc") || is_word(t, "bce"))
        || tokens.windows(2).any(|pair| matches!(pair, [a, b] if is_word(a, "b") && is_word(b, "c")))
}

type Understood = (Qualifier, DatePart, Option<DatePart>);

/// The qualifier and dates of a lowercased text without calendar escapes.
fn understand(body: &str) -> Result<Understood, Problem> {
    let tokens = tokenize(body).ok_or(Problem::NotUnderstood)?;
    if is_before_christ(&tokens) {
        return Err(Problem::TooEarly);
    }
    let Some((first, rest)) = tokens.split_first() else { return Err(Problem::NotUnderstood) };
    let keyword = match first {
        Token::Word(word) => word.as_str(),
        Token::Tilde => "~",
        _ => "",
    };
    let single = |qualifier| Ok((qualifier, date(rest)?, None));
    match keyword {
        "abt" | "about" | "c" | "ca" | "circa" | "approx" | "approximately" | "~" => single(Qualifier::About),
        "cal" | "calc" | "calculated" => single(Qualifier::Calculated),
        "est" | "estimated" => single(Qualifier::Estimated),
        // GEDCOM's "TO 1918" alone is an open-started period: before its end, for all we know.
        "bef" | "before" | "to" => single(Qualifier::Before),
        "aft" | "after" => single(Qualifier::After),
        "bet" | "btw" | "between" => {
            let split = rest
                .iter()
                .position(|t| is_word(t, "and"))
                .or_else(|| rest.iter().position(|t| *t == Token::Dash))
                .ok_or(Problem::NoEnd)?;
            range(Qualifier::Between, rest.get(..split), rest.get(split + 1..))
        }
        "from" => match rest.iter().position(|t| is_word(t, "to")) {
            Some(split) => range(Qualifier::FromTo, rest.get(..split), rest.get(split + 1..)),
            None => Ok((Qualifier::FromTo, date(rest)?, None)),
        },
        // GEDCOM's interpreted date, "INT 1921 (from the family bible)": the date with its doubt.
        "int" => {
            let end = rest.iter().position(|t| *t == Token::Phrase).unwrap_or(rest.len());
            Ok((Qualifier::About, date(rest.get(..end).unwrap_or_default())?, None))
        }
        _ => match tokens.as_slice() {
            // "1880-1885": four digits both sides, so not ISO's "1921-03".
            [Token::Num(Number { digits: 4, .. }), Token::Dash, Token::Num(Number { digits: 4, .. })] => {
                range(Qualifier::Between, tokens.get(..1), tokens.get(2..))
            }
            _ => Ok((Qualifier::Exact, date(&tokens)?, None)),
        },
    }
}

fn range(qualifier: Qualifier, start: Option<&[Token]>, end: Option<&[Token]>) -> Result<Understood, Problem> {
    let start = date(start.unwrap_or_default())?;
    let end = date(end.unwrap_or_default())?;
    if end.last_day() < start.first_day() {
        return Err(Problem::EndsBeforeStart);
    }
    Ok((qualifier, start, Some(end)))
}

/// One date: "1921", "MAR 1921", "12 MAR 1921", "March 12, 1921", "1921-03", "1921-03-12".
fn date(tokens: &[Token]) -> Result<DatePart, Problem> {
    let tokens = match tokens.split_first() {
        Some((Token::Word(w), rest)) if w == "gregorian" => rest,
        Some((Token::Word(w), _)) if OTHER_CALENDARS.contains(&w.as_str()) => return Err(Problem::OtherCalendar),
        _ => tokens,
    };
    match tokens {
        [Token::Num(y)] => part(year(y)?, None, None),
        [Token::Word(m)] => {
            month_word(m)?;
            Err(Problem::NoYear)
        }
        [Token::Word(m), Token::Num(y)] => part(year(y)?, Some(month_word(m)?), None),
        [Token::Num(_), Token::Word(m)] => {
            month_word(m)?;
            Err(Problem::NoYear)
        }
        [Token::Num(d), Token::Word(m), Token::Num(y)] | [Token::Word(m), Token::Num(d), Token::Num(y)] => {
            part(year(y)?, Some(month_word(m)?), Some(day(d)?))
        }
        [Token::Num(y @ Number { digits: 4, .. }), Token::Dash, Token::Num(m)] => {
            part(year(y)?, Some(month_number(m)?), None)
        }
        [Token::Num(y @ Number { digits: 4, .. }), Token::Dash, Token::Num(m), Token::Dash, Token::Num(d)] => {
            part(year(y)?, Some(month_number(m)?), Some(day(d)?))
        }
        // "-44": a year before Christ.
        [Token::Dash, Token::Num(_), ..] => Err(Problem::TooEarly),
        _ => Err(Problem::NotUnderstood),
    }
}

fn year(number: &Number) -> Result<i32, Problem> {
    if number.value == 0 {
        return Err(Problem::TooEarly);
    }
    if number.value > 9999 {
        return Err(Problem::TooLate);
    }
    // "March 12" is more likely a day than the year 12, "12 Mar 21" more likely 1921 than 21.
    if number.digits <= 2 {
        return Err(Problem::NoYear);
    }
    i32::try_from(number.value).map_err(|_| Problem::TooLate)
}

fn month_word(word: &str) -> Result<u8, Problem> {
    let position = MONTHS.iter().position(|name| {
        name.eq_ignore_ascii_case(word)
            || (word.len() == 3 && name.get(..3).is_some_and(|short| short.eq_ignore_ascii_case(word)))
    });
    let position = position.or_else(|| (word == "sept").then_some(8));
    position.and_then(|i| u8::try_from(i + 1).ok()).ok_or(Problem::NotUnderstood)
}

fn month_number(number: &Number) -> Result<u8, Problem> {
    if number.digits > 2 {
        return Err(Problem::NotUnderstood);
    }
    match u8::try_from(number.value) {
        Ok(month @ 1..=12) => Ok(month),
        _ => Err(Problem::NoMonth(number.value)),
    }
}

fn day(number: &Number) -> Result<u8, Problem> {
    if number.digits > 2 {
        return Err(Problem::NotUnderstood);
    }
    // Range-checked against the month in `part`; two digits always fit.
    u8::try_from(number.value).map_err(|_| Problem::NotUnderstood)
}

fn part(year: i32, month: Option<u8>, day: Option<u8>) -> Result<DatePart, Problem> {
    match (month, day) {
        (Some(month), Some(day)) if day == 0 || day > days_in_month(year, month) => {
            Err(Problem::NotADay { year, month })
        }
        _ => Ok(DatePart { year, month, day }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dates_and_writes_them_back() {
        // (input, display, gedcom)
        #[rustfmt::skip]
        let cases = [
            ("12 MAR 1921", "12 March 1921", "12 MAR 1921"),
            ("MAR 1921", "March 1921", "MAR 1921"),
            ("1921", "1921", "1921"),
            ("  1921 ", "1921", "1921"),
            ("ABT 1921", "about 1921", "ABT 1921"),
            ("CAL 1850", "calculated 1850", "CAL 1850"),
            ("EST 1850", "estimated 1850", "EST 1850"),
            ("BEF 1930", "before 1930", "BEF 1930"),
            ("AFT 1930", "after 1930", "AFT 1930"),
            ("BET 1880 AND 1885", "between 1880 and 1885", "BET 1880 AND 1885"),
            ("FROM 1914 TO 1918", "from 1914 to 1918", "FROM 1914 TO 1918"),
            ("FROM 1914", "from 1914", "FROM 1914"),
            ("TO 1918", "before 1918", "BEF 1918"),
            ("INT 1921 (from the family bible)", "about 1921", "ABT 1921"),
            ("INT 12 MAR 1921", "about 12 March 1921", "ABT 12 MAR 1921"),
            ("BET 12 MAR 1880 AND APR 1885", "between 12 March 1880 and April 1885", "BET 12 MAR 1880 AND APR 1885"),
            ("about 1921", "about 1921", "ABT 1921"),
            ("abt. 1921", "about 1921", "ABT 1921"),
            ("Abt 1921", "about 1921", "ABT 1921"),
            ("c. 1921", "about 1921", "ABT 1921"),
            ("c1921", "about 1921", "ABT 1921"),
            ("circa 1921", "about 1921", "ABT 1921"),
            ("ca 1921", "about 1921", "ABT 1921"),
            ("~1921", "about 1921", "ABT 1921"),
            ("calculated 1850", "calculated 1850", "CAL 1850"),
            ("estimated March 1850", "estimated March 1850", "EST MAR 1850"),
            ("before 1930", "before 1930", "BEF 1930"),
            ("after 12 March 1930", "after 12 March 1930", "AFT 12 MAR 1930"),
            ("between 1880 and 1885", "between 1880 and 1885", "BET 1880 AND 1885"),
            ("Between 1880 & 1885", "between 1880 and 1885", "BET 1880 AND 1885"),
            ("between 1880 and 1880", "between 1880 and 1880", "BET 1880 AND 1880"),
            ("1880-1885", "between 1880 and 1885", "BET 1880 AND 1885"),
            ("1880–1885", "between 1880 and 1885", "BET 1880 AND 1885"),
            ("1880 - 1885", "between 1880 and 1885", "BET 1880 AND 1885"),
            ("from 1914 to 1918", "from 1914 to 1918", "FROM 1914 TO 1918"),
            ("12 March 1921", "12 March 1921", "12 MAR 1921"),
            ("12th March 1921", "12 March 1921", "12 MAR 1921"),
            ("March 12, 1921", "12 March 1921", "12 MAR 1921"),
            ("March 12 1921", "12 March 1921", "12 MAR 1921"),
            ("Sept. 3rd, 1939", "3 September 1939", "3 SEP 1939"),
            ("march 1921", "March 1921", "MAR 1921"),
            ("September 1939", "September 1939", "SEP 1939"),
            ("sep 1939", "September 1939", "SEP 1939"),
            ("05 MAY 1945", "5 May 1945", "5 MAY 1945"),
            ("1921-03-12", "12 March 1921", "12 MAR 1921"),
            ("1921-03", "March 1921", "MAR 1921"),
            ("1921-3-5", "5 March 1921", "5 MAR 1921"),
            ("about 1921-03", "about March 1921", "ABT MAR 1921"),
            ("800", "800", "800"),
            ("0012", "0012", "0012"),
            ("12 MAR 012", "12 March 0012", "12 MAR 0012"),
            ("9999", "9999", "9999"),
            ("29 FEB 2000", "29 February 2000", "29 FEB 2000"),
            ("29 FEB 1904", "29 February 1904", "29 FEB 1904"),
            ("29 feb 1600", "29 February 1600", "29 FEB 1600"),
            ("2024-02-29", "29 February 2024", "29 FEB 2024"),
            ("31 DEC 1999", "31 December 1999", "31 DEC 1999"),
            ("@#DGREGORIAN@ 12 MAR 1921", "12 March 1921", "12 MAR 1921"),
            ("BET @#DGREGORIAN@ 1880 AND @#DGREGORIAN@ 1885", "between 1880 and 1885", "BET 1880 AND 1885"),
            ("GREGORIAN 1921", "1921", "1921"),
            // Phrases: kept, shown as given, written as a GEDCOM date phrase.
            ("(the winter of the big snow)", "(the winter of the big snow)", "(the winter of the big snow)"),
            ("(12 MAR 1921)", "(12 MAR 1921)", "(12 MAR 1921)"),
            ("@#DJULIAN@ 12 MAR 1700", "@#DJULIAN@ 12 MAR 1700", "(@#DJULIAN@ 12 MAR 1700)"),
            ("@#DHEBREW@ 1 TSH 5700", "@#DHEBREW@ 1 TSH 5700", "(@#DHEBREW@ 1 TSH 5700)"),
            ("JULIAN 12 MAR 1700", "JULIAN 12 MAR 1700", "(JULIAN 12 MAR 1700)"),
        ];
        let mut wrong = Vec::new();
        for (input, display, gedcom) in cases {
            let date = match parse(input) {
                Ok(date) => date,
                Err(error) => {
                    wrong.push(format!("{input:?}: refused: {error}"));
                    continue;
                }
            };
            if date.original != input.trim() {
                wrong.push(format!("{input:?}: original became {:?}", date.original));
            }
            if date.display() != display || date.gedcom() != gedcom {
                wrong.push(format!(
                    "{input:?}: expected {display:?} / {gedcom:?}, got {:?} / {:?}",
                    date.display(),
                    date.gedcom()
                ));
            }
            // Both written forms must read back as the same date.
            for written in [date.gedcom(), date.display()] {
                match parse(&written) {
                    Ok(back) if GenDate { original: date.original.clone(), ..back.clone() } == date => {}
                    other => wrong.push(format!("{input:?}: {written:?} read back as {other:?}, not {date:?}")),
                }
            }
        }
        assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));
    }

    #[test]
    fn parses_into_parts() {
        let part = |year, month, day| Some(DatePart { year, month, day });
        let cases = [
            ("12 MAR 1921", Qualifier::Exact, part(1921, Some(3), Some(12)), None),
            ("MAR 1921", Qualifier::Exact, part(1921, Some(3), None), None),
            ("about 1921", Qualifier::About, part(1921, None, None), None),
            ("1880-1885", Qualifier::Between, part(1880, None, None), part(1885, None, None)),
            ("FROM 1914", Qualifier::FromTo, part(1914, None, None), None),
            ("TO 1918", Qualifier::Before, part(1918, None, None), None),
            ("(unknown)", Qualifier::Exact, None, None),
            ("@#DJULIAN@ 1700", Qualifier::Exact, None, None),
        ];
        for (input, qualifier, start, end) in cases {
            let date = parse(input).unwrap();
            assert_eq!((date.qualifier, date.start, date.end), (qualifier, start, end), "{input}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        // (input, part of the message)
        let cases = [
            ("next spring", "is not a date Heirloom understands: write 12 March 1921, March 1921, 1921, about 1921"),
            ("31 February 1921", "is not a day of the calendar: February 1921 has 28 days."),
            ("29 FEB 1900", "is not a day of the calendar: February 1900 has 28 days."),
            ("29 FEB 1921", "is not a day of the calendar: February 1921 has 28 days."),
            ("2023-02-29", "is not a day of the calendar: February 2023 has 28 days."),
            ("31 APR 1921", "is not a day of the calendar: April 1921 has 30 days."),
            ("0 MAR 1921", "is not a day of the calendar: March 1921 has 31 days."),
            ("1921-13-01", "is not a day of the calendar: there is no month 13."),
            ("1921-00", "is not a day of the calendar: there is no month 0."),
            ("0", "is too early: years before 1 AD are not supported."),
            ("44 BC", "is too early: years before 1 AD are not supported."),
            ("44 B.C.", "is too early: years before 1 AD are not supported."),
            ("ABT 44 BCE", "is too early: years before 1 AD are not supported."),
            ("-44", "is too early: years before 1 AD are not supported."),
            ("10000", "is too late: years after 9999 are not supported."),
            ("between 1890 and 1880", "ends before it starts."),
            ("FROM 12 MAR 1918 TO 11 MAR 1918", "ends before it starts."),
            ("between 1880", "needs an end"),
            ("March 12", "needs a year written in full"),
            ("12 Mar 21", "needs a year written in full"),
            ("12 March", "needs a year written in full"),
            ("March", "needs a year written in full"),
            ("about", "is not a date Heirloom understands"),
            ("12/03/1921", "is not a date Heirloom understands"),
            ("1700/01", "is not a date Heirloom understands"),
            ("Smarch 1921", "is not a date Heirloom understands"),
            ("1921 (maybe)", "is not a date Heirloom understands"),
            ("12 13 1921", "is not a date Heirloom understands"),
            ("@#DGREGORIAN 1921", "is not a date Heirloom understands"),
        ];
        for (input, expected) in cases {
            let error = parse(input).unwrap_err();
            assert!(error.message.starts_with(&format!("“{input}” ")), "{input}: {}", error.message);
            assert!(error.message.contains(expected), "{input}: {}", error.message);
            assert_eq!(error.to_string(), error.message);
        }
        for empty in ["", "   "] {
            assert_eq!(parse(empty).unwrap_err().message, "Enter a date, or leave the field empty.");
        }
    }

    #[test]
    fn knows_leap_years() {
        let cases =
            [(1600, true), (1700, false), (1800, false), (1900, false), (1904, true), (2000, true), (2023, false)];
        for (year, leap) in cases {
            assert_eq!(is_leap_year(year), leap, "{year}");
            assert_eq!(parse(&format!("29 FEB {year}")).is_ok(), leap, "{year}");
        }
    }

    #[test]
    fn sorts_a_timeline() {
        let mut dates: Vec<GenDate> = [
            "AFT 1930",
            "(the old days)",
            "12 MAR 1921",
            "1930",
            "BEF 1930",
            "MAR 1921",
            "1921",
            "between 1880 and 1885",
            "about 1900",
            "JAN 1930",
        ]
        .iter()
        .map(|text| parse(text).unwrap())
        .collect();
        dates.sort_by_key(|date| date.sort_key());
        let order: Vec<String> = dates.iter().map(GenDate::display).collect();
        assert_eq!(
            order,
            [
                "(the old days)",
                "between 1880 and 1885",
                "about 1900",
                "1921",
                "March 1921",
                "12 March 1921",
                "before 1930",
                "1930",
                "after 1930",
                "January 1930"
            ]
        );
        assert_eq!(parse("12 MAR 1921").unwrap().sort_key(), Some(19_210_312));
        assert_eq!(parse("BEF 1930").unwrap().sort_key(), Some(19_299_999));
        assert_eq!(parse("(someday)").unwrap().sort_key(), None);
    }

    #[test]
    fn bounds_each_qualifier() {
        let day = |year, month, day| Some(DatePart { year, month: Some(month), day: Some(day) });
        // (input, earliest, latest, year)
        let cases = [
            ("12 MAR 1921", day(1921, 3, 12), day(1921, 3, 12), Some(1921)),
            ("MAR 1921", day(1921, 3, 1), day(1921, 3, 31), Some(1921)),
            ("FEB 1920", day(1920, 2, 1), day(1920, 2, 29), Some(1920)),
            ("FEB 1921", day(1921, 2, 1), day(1921, 2, 28), Some(1921)),
            ("ABT 1921", day(1921, 1, 1), day(1921, 12, 31), Some(1921)),
            ("CAL 1850", day(1850, 1, 1), day(1850, 12, 31), Some(1850)),
            ("EST APR 1850", day(1850, 4, 1), day(1850, 4, 30), Some(1850)),
            ("BEF 1930", None, day(1930, 12, 31), Some(1930)),
            ("AFT 1930", day(1930, 1, 1), None, Some(1930)),
            ("BET 1880 AND 1885", day(1880, 1, 1), day(1885, 12, 31), Some(1880)),
            ("FROM 1914 TO 11 NOV 1918", day(1914, 1, 1), day(1918, 11, 11), Some(1914)),
            ("FROM 1914", day(1914, 1, 1), None, Some(1914)),
            ("TO 1918", None, day(1918, 12, 31), Some(1918)),
            ("(unknown)", None, None, None),
        ];
        for (input, earliest, latest, year) in cases {
            let date = parse(input).unwrap();
            assert_eq!((date.earliest(), date.latest(), date.year()), (earliest, latest, year), "{input}");
        }
    }

    #[test]
    fn bounds_compare_chronologically() {
        // (born, died, possible): died.latest() < born.earliest() is how a death before a birth is caught.
        let cases = [
            ("MAR 1921", "1921", true),
            ("1921", "MAR 1921", true),
            ("12 MAR 1921", "11 MAR 1921", false),
            ("12 MAR 1921", "MAR 1921", true),
            ("ABT 1921", "1920", false),
            ("AFT 1930", "1930", true),
            ("1930", "BEF 1930", true),
            ("1931", "BEF 1930", false),
            ("BET 1880 AND 1885", "1881", true),
            ("BET 1880 AND 1885", "1879", false),
        ];
        for (born, died, possible) in cases {
            let (born_at, died_at) = (parse(born).unwrap().earliest(), parse(died).unwrap().latest());
            let (born_at, died_at) = (born_at.unwrap(), died_at.unwrap());
            assert_eq!(died_at >= born_at, possible, "born {born}, died {died}");
        }
    }

    #[test]
    fn travels_as_snake_case_json() {
        let date = parse("BET 1880 AND MAR 1885").unwrap();
        let json = serde_json::to_value(&date).unwrap();
        assert_eq!(json["qualifier"], "between");
        assert_eq!(json["end"], serde_json::json!({ "year": 1885, "month": 3, "day": null }));
        assert_eq!(serde_json::from_value::<GenDate>(json).unwrap(), date);
    }
}
