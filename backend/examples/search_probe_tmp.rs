// Temporary probe (not to commit): where typeahead time goes on the bench index.
use std::time::Instant;
use backend::search::index::SearchIndex;
use backend::search::{access, query, repo, tokenize, Reader};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhrasePrefixQuery, Query, TermQuery, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

#[tokio::main]
async fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let user = std::env::args().nth(2).unwrap();
    let url = secrecy::SecretString::from(format!("sqlite://{}/heirloom.db", dir.display()));
    let db = backend::db::Db::connect(&url, 2).await.unwrap();
    let memberships = repo::memberships(&db, &user).await.unwrap().into_iter().collect();
    let reader = Reader { user_id: Some(user), is_admin: false, memberships };
    let index = SearchIndex::open(&dir.join("search")).await.unwrap();
    let g = index.current();
    let f = g.fields;
    let texts: Vec<String> = std::fs::read_to_string(dir.join("bench/typeahead.txt")).unwrap().lines()
        .map(|l| l.split_once("q=").unwrap().1.replace("%20", " ")).filter(|t| !t.contains('%')).collect();
    let grants: Vec<Term> = access::reader_grants(&reader).iter().map(|g| Term::from_field_text(f.access, g)).collect();
    let searcher = g.reader.searcher();
    let mut stemmed = tokenize::stemmed();
    let mut plain = tokenize::plain();
    for variant in ["baseline", "no-text-prefix", "no-fuzzy", "title-only", "no-filter"] {
        let mut times = Vec::new();
        for pass in 0..3 {
            for text in &texts {
                let started = Instant::now();
                if variant == "baseline" {
                    query::suggest(&g, &reader, text, 8).unwrap();
                } else {
                    let stems = tokenize::tokens(&mut stemmed, text);
                    let plains = tokenize::tokens(&mut plain, text);
                    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                    let n = stems.len();
                    for (i, (s, p)) in stems.iter().zip(plains.iter()).enumerate() {
                        let last = i + 1 == n;
                        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                        let ranked = if variant == "title-only" { vec![f.title] } else { vec![f.title, f.tags, f.body, f.legacy_name, f.extra] };
                        for field in ranked {
                            should.push((Occur::Should, Box::new(TermQuery::new(Term::from_field_text(field, &s.text), IndexRecordOption::WithFreqs))));
                        }
                        let plain_fields = if variant == "title-only" || variant == "no-text-prefix" && last { vec![f.title_plain] } else { vec![f.title_plain, f.text_plain] };
                        for field in plain_fields {
                            let term = Term::from_field_text(field, &p.text);
                            if p.text.chars().count() >= 5 && variant != "no-fuzzy" {
                                should.push((Occur::Should, Box::new(FuzzyTermQuery::new(term.clone(), 1, true))));
                            }
                            if last && p.text.chars().count() >= 2 {
                                should.push((Occur::Should, Box::new(PhrasePrefixQuery::new(vec![term]))));
                            }
                        }
                        clauses.push((Occur::Must, Box::new(BooleanQuery::new(should))));
                    }
                    if variant != "no-filter" {
                        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(TermSetQuery::new(grants.clone())), 0.0))));
                    }
                    let q = BooleanQuery::new(clauses);
                    searcher.search(&q, &TopDocs::with_limit(8).order_by_score()).unwrap();
                }
                if pass > 0 { times.push(started.elapsed().as_secs_f64() * 1000.0); }
            }
        }
        times.sort_by(f64::total_cmp);
        let at = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
        println!("{variant:16} p50 {:.2} ms  p95 {:.2} ms  mean {:.2}", at(0.5), at(0.95), times.iter().sum::<f64>() / times.len() as f64);
    }
}
