//! The app's router reads its paths from the route table (`types::routes`), which the
//! server's router and the OpenAPI document read too: [`TablePath`] is a route table
//! template (`/stories/{id}/edit`) as Leptos route segments.

use std::borrow::Cow;

use leptos_router::{ParamSegment, PartialPathMatch, PathSegment, PossibleRouteMatch, StaticSegment};

/// A path template of the route table as a Leptos route path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TablePath(pub &'static str);

/// One segment of a template: fixed text, or a `{name}` parameter.
enum Segment {
    Static(&'static str),
    Param(&'static str),
}

impl TablePath {
    fn segments(&self) -> impl Iterator<Item = Segment> {
        self.0.split('/').filter(|segment| !segment.is_empty()).map(|segment| {
            match segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
                Some(name) => Segment::Param(name),
                None => Segment::Static(segment),
            }
        })
    }
}

impl PossibleRouteMatch for TablePath {
    fn optional(&self) -> bool {
        false
    }

    fn test<'a>(&self, path: &'a str) -> Option<PartialPathMatch<'a>> {
        let mut remaining = path;
        let mut matched_len = 0;
        let mut params: Vec<(Cow<'static, str>, String)> = Vec::new();
        let mut any = false;
        for segment in self.segments() {
            any = true;
            let step = match segment {
                Segment::Static(text) => StaticSegment(text).test(remaining)?,
                Segment::Param(name) => ParamSegment(name).test(remaining)?,
            };
            matched_len += step.matched().len();
            remaining = step.remaining();
            params.extend(step.params());
        }
        if !any {
            // The home page: what `path!("")` matches.
            return ().test(path);
        }
        Some(PartialPathMatch::new(remaining, params, &path[..matched_len]))
    }

    fn generate_path(&self, path: &mut Vec<PathSegment>) {
        for segment in self.segments() {
            path.push(match segment {
                Segment::Static(text) => PathSegment::Static(text.into()),
                Segment::Param(name) => PathSegment::Param(name.into()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(template: &'static str, path: &str) -> Option<Vec<(String, String)>> {
        let matched = TablePath(template).test(path)?;
        if !matched.is_complete() {
            return None;
        }
        Some(matched.params().into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn table_templates_match_as_the_path_macro_did() {
        assert_eq!(params("/stories/{id}/edit", "/stories/abc/edit"), Some(vec![("id".into(), "abc".into())]));
        assert_eq!(params("/stories/{id}/edit", "/stories/abc"), None);
        assert_eq!(params("/stories/{id}", "/stories/abc/edit"), None);
        assert_eq!(params("/legacies", "/legacies"), Some(vec![]));
        assert_eq!(params("/legacies", "/legaciesx"), None);
        assert_eq!(params("/", "/"), Some(vec![]));
        let mut generated = Vec::new();
        TablePath("/legacies/{id}/new").generate_path(&mut generated);
        assert_eq!(
            generated,
            vec![
                PathSegment::Static("legacies".into()),
                PathSegment::Param("id".into()),
                PathSegment::Static("new".into())
            ]
        );
    }
}
