//! Bytes to text: the byte-order mark first, then the header's `CHAR` declaration. GEDCOM 7 is
//! always UTF-8; older files are also UTF-16 (`UNICODE`), ANSEL (the 5.5 default, MARC's
//! character set, with combining marks *before* their letter), `ANSI` (Windows-1252 in
//! practice) or `IBMPC` (DOS code page 437). Decoding never fails: bytes that mean nothing in
//! the declared set become U+FFFD with a warning, because refusing a family's only copy of
//! their tree over one odd byte helps no one.

use super::{skipped, Skipped};

pub(super) struct Decoded {
    pub text: String,
    pub warnings: Vec<Skipped>,
}

pub(super) fn decode(bytes: &[u8]) -> Decoded {
    let mut warnings = Vec::new();
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        utf8_or_1252(rest, "UTF-8", &mut warnings)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, false, &mut warnings)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, true, &mut warnings)
    } else if bytes.len() >= 2 && bytes[0] != 0 && bytes[1] == 0 {
        // UTF-16 without a byte-order mark: "0" of "0 HEAD" followed or preceded by a NUL.
        utf16(bytes, false, &mut warnings)
    } else if bytes.len() >= 2 && bytes[0] == 0 && bytes[1] != 0 {
        utf16(bytes, true, &mut warnings)
    } else {
        let (declared, line) = declared_charset(bytes);
        let declared = declared.to_ascii_uppercase();
        match declared.as_str() {
            "ANSEL" => {
                // Some programs declare ANSEL and write UTF-8; real ANSEL is almost never valid
                // UTF-8 (a combining mark is not followed by continuation bytes).
                if !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok() {
                    warnings.push(skipped(line, "declared ANSEL but written in UTF-8; read as UTF-8"));
                    String::from_utf8_lossy(bytes).into_owned()
                } else {
                    ansel(bytes, &mut warnings)
                }
            }
            "ANSI" | "WINDOWS" | "IBM WINDOWS" | "WINDOWS-1252" | "CP1252" | "ISO-8859-1" | "ISO8859-1" | "LATIN1"
            | "LATIN-1" => windows_1252(bytes),
            "IBMPC" | "IBM PC" | "IBM DOS" | "MSDOS" | "CP437" => cp437(bytes),
            // UNICODE without a byte-order mark or NULs can only be UTF-8 mislabelled.
            "" | "UTF-8" | "UTF8" | "UNICODE" | "ASCII" | "US-ASCII" => utf8_or_1252(bytes, "UTF-8", &mut warnings),
            other => {
                warnings.push(skipped(line, format!("unknown character set {other}; read as UTF-8 or Windows-1252")));
                utf8_or_1252(bytes, other, &mut warnings)
            }
        }
    };
    // A byte-order mark decoded as text (UTF-16 without BOM stripping, or a doubled one).
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    Decoded { text, warnings }
}

/// The `1 CHAR` value inside the leading `HEAD` record and its line number, read as ASCII
/// because every 8-bit set GEDCOM allows agrees with ASCII on the tags.
fn declared_charset(bytes: &[u8]) -> (String, usize) {
    let mut line_no = 1;
    let mut start = 0;
    let mut i = 0;
    while i <= bytes.len() {
        let end_of_line = i == bytes.len() || bytes[i] == b'\n' || bytes[i] == b'\r';
        if !end_of_line {
            i += 1;
            continue;
        }
        let text = String::from_utf8_lossy(&bytes[start..i]);
        let mut fields = text.split_whitespace();
        match (fields.next(), fields.next()) {
            // The next record: the header had no CHAR.
            (Some("0"), Some(tag)) if tag != "HEAD" => break,
            (Some("1"), Some("CHAR")) => return (fields.collect::<Vec<_>>().join(" "), line_no),
            _ => {}
        }
        if bytes.get(i) == Some(&b'\r') && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
        }
        i += 1;
        start = i;
        line_no += 1;
    }
    (String::new(), 0)
}

fn utf8_or_1252(bytes: &[u8], declared: &str, warnings: &mut Vec<Skipped>) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(err) => {
            // Programs that say UTF-8 (or nothing) and write Windows-1252 are common; reading
            // them as 1252 keeps every letter where "lossy UTF-8" would lose them.
            let line = 1 + bytes[..err.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            warnings.push(skipped(
                line,
                format!("not valid {declared} (first bad byte on this line); read as Windows-1252"),
            ));
            windows_1252(bytes)
        }
    }
}

fn utf16(bytes: &[u8], big_endian: bool, warnings: &mut Vec<Skipped>) -> String {
    let units = bytes.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let mut bad = 0usize;
    let text: String = char::decode_utf16(units)
        .map(|unit| {
            unit.unwrap_or_else(|_| {
                bad += 1;
                char::REPLACEMENT_CHARACTER
            })
        })
        .collect();
    if bad > 0 || bytes.len() % 2 == 1 {
        warnings.push(skipped(1, format!("{bad} broken UTF-16 sequences replaced by \u{fffd}")));
    }
    text
}

/// Windows-1252's 0x80–0x9F; the other high bytes are Latin-1's. Its five unassigned bytes map
/// to the C1 controls of the same value, as browsers do.
const CP1252_80: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’',
    '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

fn windows_1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_80[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

const CP437_80: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

fn cp437(bytes: &[u8]) -> String {
    let high: Vec<char> = CP437_80.chars().collect();
    bytes
        .iter()
        .map(|&b| if b < 0x80 { char::from(b) } else { high.get(usize::from(b - 0x80)).copied().unwrap_or('\u{fffd}') })
        .collect()
}

/// ANSEL's spacing characters in 0xA1–0xCF (ANSI Z39.47 with the GEDCOM additions: the boxes,
/// midline e and o, and es-zet at 0xCF besides MARC's 0xC7).
fn ansel_letter(b: u8) -> Option<char> {
    Some(match b {
        0xA1 => 'Ł',
        0xA2 => 'Ø',
        0xA3 => 'Đ',
        0xA4 => 'Þ',
        0xA5 => 'Æ',
        0xA6 => 'Œ',
        0xA7 => 'ʹ',
        0xA8 => '·',
        0xA9 => '♭',
        0xAA => '®',
        0xAB => '±',
        0xAC => 'Ơ',
        0xAD => 'Ư',
        0xAE => 'ʼ',
        0xB0 => 'ʻ',
        0xB1 => 'ł',
        0xB2 => 'ø',
        0xB3 => 'đ',
        0xB4 => 'þ',
        0xB5 => 'æ',
        0xB6 => 'œ',
        0xB7 => 'ʺ',
        0xB8 => 'ı',
        0xB9 => '£',
        0xBA => 'ð',
        0xBC => 'ơ',
        0xBD => 'ư',
        0xBE => '□',
        0xBF => '■',
        0xC0 => '°',
        0xC1 => 'ℓ',
        0xC2 => '℗',
        0xC3 => '©',
        0xC4 => '♯',
        0xC5 => '¿',
        0xC6 => '¡',
        0xC7 | 0xCF => 'ß',
        0xC8 => '€',
        0xCD => 'e',
        0xCE => 'o',
        0x8D => '\u{200d}',
        0x8E => '\u{200c}',
        _ => return None,
    })
}

/// ANSEL's combining marks in 0xE0–0xFE, as the Unicode combining characters.
fn ansel_mark(b: u8) -> Option<char> {
    Some(match b {
        0xE0 => '\u{309}',
        0xE1 => '\u{300}',
        0xE2 => '\u{301}',
        0xE3 => '\u{302}',
        0xE4 => '\u{303}',
        0xE5 => '\u{304}',
        0xE6 => '\u{306}',
        0xE7 => '\u{307}',
        0xE8 => '\u{308}',
        0xE9 => '\u{30c}',
        0xEA => '\u{30a}',
        0xEB => '\u{fe20}',
        0xEC => '\u{fe21}',
        0xED => '\u{315}',
        0xEE => '\u{30b}',
        0xEF => '\u{310}',
        0xF0 => '\u{327}',
        0xF1 => '\u{328}',
        0xF2 => '\u{323}',
        0xF3 => '\u{324}',
        0xF4 => '\u{325}',
        0xF5 => '\u{333}',
        0xF6 => '\u{332}',
        0xF7 => '\u{326}',
        0xF8 => '\u{31c}',
        0xF9 => '\u{32e}',
        0xFA => '\u{fe22}',
        0xFB => '\u{fe23}',
        0xFE => '\u{313}',
        _ => return None,
    })
}

/// Precomposed letters by combining mark: pairs of base letter and composed letter, so that
/// "e" + U+0301 becomes "é" as the rest of Heirloom (NFC everywhere) expects. Covers Latin-1,
/// Latin Extended-A/B and Latin Extended Additional letters with one mark on an ASCII letter.
const COMPOSED: [(char, &str); 18] = [
    ('\u{300}', "AÀEÈIÌOÒUÙaàeèiìoòuùNǸnǹWẀwẁYỲyỳ"),
    ('\u{301}', "AÁEÉIÍOÓUÚYÝaáeéiíoóuúyýCĆcćLĹlĺNŃnńRŔrŕSŚsśZŹzźGǴgǵKḰkḱMḾmḿPṔpṕWẂwẃ"),
    ('\u{302}', "AÂEÊIÎOÔUÛaâeêiîoôuûCĈcĉGĜgĝHĤhĥJĴjĵSŜsŝWŴwŵYŶyŷZẐzẑ"),
    ('\u{303}', "AÃNÑOÕaãnñoõIĨiĩUŨuũVṼvṽEẼeẽYỸyỹ"),
    ('\u{304}', "AĀaāEĒeēIĪiīOŌoōUŪuūYȲyȳGḠgḡ"),
    ('\u{306}', "AĂaăEĔeĕGĞgğIĬiĭOŎoŏUŬuŭ"),
    ('\u{307}', "CĊcċEĖeėGĠgġIİZŻzżAȦaȧOȮoȯBḂbḃDḊdḋFḞfḟHḢhḣMṀmṁNṄnṅPṖpṗRṘrṙSṠsṡTṪtṫWẆwẇXẊxẋYẎyẏ"),
    ('\u{308}', "AÄEËIÏOÖUÜaäeëiïoöuüyÿYŸHḦhḧWẄwẅXẌxẍtẗ"),
    ('\u{309}', "AẢaảEẺeẻIỈiỉOỎoỏUỦuủYỶyỷ"),
    ('\u{30a}', "AÅaåUŮuůwẘyẙ"),
    ('\u{30b}', "OŐoőUŰuű"),
    ('\u{30c}', "CČcčDĎdďEĚeěLĽlľNŇnňRŘrřSŠsšTŤtťZŽzžAǍaǎIǏiǐOǑoǒUǓuǔGǦgǧKǨkǩjǰHȞhȟ"),
    ('\u{323}', "BḄbḅDḌdḍHḤhḥKḲkḳLḶlḷMṂmṃNṆnṇRṚrṛSṢsṣTṬtṭVṾvṿWẈwẉZẒzẓAẠaạEẸeẹIỊiịOỌoọUỤuụYỴyỵ"),
    ('\u{324}', "UṲuṳ"),
    ('\u{325}', "AḀaḁ"),
    ('\u{326}', "SȘsșTȚtț"),
    ('\u{327}', "CÇcçGĢgģKĶkķLĻlļNŅnņRŖrŗSŞsşTŢtţEȨeȩDḐdḑHḨhḩ"),
    ('\u{328}', "AĄaąEĘeęIĮiįUŲuųOǪoǫ"),
];

fn compose(base: char, mark: char) -> Option<char> {
    let (_, pairs) = COMPOSED.iter().find(|(m, _)| *m == mark)?;
    let mut chars = pairs.chars();
    while let (Some(b), Some(composed)) = (chars.next(), chars.next()) {
        if b == base {
            return Some(composed);
        }
    }
    None
}

fn ansel(bytes: &[u8], warnings: &mut Vec<Skipped>) -> String {
    let mut out = String::with_capacity(bytes.len());
    // Marks read but not yet placed: they belong to the next letter.
    let mut marks: Vec<char> = Vec::new();
    let mut bad_line = None;
    let mut line = 1;
    for &b in bytes {
        if let Some(mark) = ansel_mark(b) {
            marks.push(mark);
            continue;
        }
        let c = match b {
            0x00..=0x7F => char::from(b),
            // MARC's non-sorting markers carry no text.
            0x88 | 0x89 => continue,
            _ => ansel_letter(b).unwrap_or_else(|| {
                bad_line.get_or_insert(line);
                char::REPLACEMENT_CHARACTER
            }),
        };
        if b == b'\n' {
            line += 1;
        }
        if marks.is_empty() {
            out.push(c);
        } else if c == '\n' || c == '\r' {
            // A mark with no letter before the end of the line stays on its line, unattached.
            out.extend(marks.drain(..));
            out.push(c);
        } else {
            let mut rest = &marks[..];
            match compose(c, marks[0]) {
                Some(composed) => {
                    out.push(composed);
                    rest = &marks[1..];
                }
                None => out.push(c),
            }
            out.extend(rest.iter());
            marks.clear();
        }
    }
    out.extend(marks);
    if let Some(line) = bad_line {
        warnings.push(skipped(line, "bytes with no meaning in ANSEL replaced by \u{fffd}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        decode(bytes).text
    }

    fn ansel_file(body: &[u8]) -> Vec<u8> {
        let mut bytes = b"0 HEAD\n1 CHAR ANSEL\n0 @I1@ INDI\n1 NAME ".to_vec();
        bytes.extend_from_slice(body);
        bytes.extend_from_slice(b"\n0 TRLR\n");
        bytes
    }

    fn ansel_name(body: &[u8]) -> String {
        let decoded = text(&ansel_file(body));
        decoded.lines().nth(3).unwrap_or_default().trim_start_matches("1 NAME ").to_string()
    }

    #[test]
    fn ansel_marks_follow_and_compose_with_their_letter() {
        assert_eq!(ansel_name(b"Ren\xE2ee"), "Renée");
        assert_eq!(ansel_name(b"M\xE8uller"), "Müller");
        assert_eq!(ansel_name(b"Pe\xE4na"), "Peña");
        assert_eq!(ansel_name(b"\xEAAngstr\xE8om"), "Ångström");
        assert_eq!(ansel_name(b"Fran\xF0cois"), "François");
        assert_eq!(ansel_name(b"Dvo\xE9r\xE1ak"), "Dvořàk");
        assert_eq!(ansel_name(b"\xE2E\xE9c"), "Éč");
    }

    #[test]
    fn ansel_marks_without_a_precomposed_letter_still_follow_it() {
        // q has no precomposed form with an acute; two marks compose the first only.
        assert_eq!(ansel_name(b"\xE2q"), "q\u{301}");
        assert_eq!(ansel_name(b"\xE8\xE2u"), "ü\u{301}");
        // A mark at the end of a line stays on that line.
        assert_eq!(ansel_name(b"x\xE2"), "x\u{301}");
    }

    #[test]
    fn ansel_special_letters() {
        assert_eq!(ansel_name(b"\xA1\xB1\xA2\xB2\xA5\xB5\xA6\xB6\xCF\xC7\xA4\xBA\xB8\xC3\xB9"), "ŁłØøÆæŒœßßÞðı©£");
        let decoded = decode(&ansel_file(b"A\x90B"));
        assert!(decoded.text.contains("A\u{fffd}B"));
        assert_eq!(decoded.warnings.len(), 1);
        assert_eq!(decoded.warnings[0].line, 4);
    }

    #[test]
    fn ansel_declared_but_utf8_written() {
        let decoded = decode(&ansel_file("Müller".as_bytes()));
        assert!(decoded.text.contains("1 NAME Müller\n"));
        assert_eq!(decoded.warnings.len(), 1);
    }

    #[test]
    fn utf16_with_and_without_byte_order_mark() {
        let sample = "0 HEAD\r\n1 NAME Zoë 𝄞\r\n0 TRLR\r\n";
        let le: Vec<u8> = sample.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = sample.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(text(&[&[0xFF, 0xFE][..], &le].concat()), sample);
        assert_eq!(text(&[&[0xFE, 0xFF][..], &be].concat()), sample);
        assert_eq!(text(&le), sample);
        assert_eq!(text(&be), sample);
        // A lone surrogate is replaced, with a warning.
        let broken = decode(&[0xFF, 0xFE, b'0', 0, 0x00, 0xD8, b' ', 0]);
        assert_eq!(broken.text, "0\u{fffd} ");
        assert_eq!(broken.warnings.len(), 1);
    }

    #[test]
    fn utf8_bom_and_windows_1252_fallback() {
        assert_eq!(text("\u{feff}0 HEAD\n1 CHAR UTF-8\n1 NOTE ø\n".as_bytes()), "0 HEAD\n1 CHAR UTF-8\n1 NOTE ø\n");
        let decoded = decode(b"0 HEAD\n1 CHAR UTF-8\n1 NOTE Caf\xE9 \x80\n");
        assert_eq!(decoded.text, "0 HEAD\n1 CHAR UTF-8\n1 NOTE Café €\n");
        assert_eq!(decoded.warnings[0].line, 3);
    }

    #[test]
    fn declared_8_bit_sets() {
        assert_eq!(text(b"0 HEAD\n1 CHAR ANSI\n1 NOTE \x93Gr\xFC\xDFe\x94\n"), "0 HEAD\n1 CHAR ANSI\n1 NOTE “Grüße”\n");
        assert_eq!(text(b"0 HEAD\r1 CHAR IBMPC\r1 NOTE Gr\x81\xE1e\r"), "0 HEAD\r1 CHAR IBMPC\r1 NOTE Grüße\r");
        // The declaration is only looked for in the header.
        assert_eq!(
            text(b"0 HEAD\n0 @N1@ NOTE\n1 CHAR ANSEL\n1 CONT \xC3\xA9"),
            "0 HEAD\n0 @N1@ NOTE\n1 CHAR ANSEL\n1 CONT é"
        );
        let odd = decode(b"0 HEAD\n1 CHAR KLINGON\n0 TRLR\n");
        assert_eq!(odd.warnings.len(), 1);
        assert_eq!(odd.warnings[0].line, 2);
    }

    #[test]
    fn cp437_table_is_complete() {
        assert_eq!(CP437_80.chars().count(), 128);
    }
}
