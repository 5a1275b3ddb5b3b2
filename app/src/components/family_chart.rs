//! The family tree chart: a person's ancestors above them and descendants below, laid
//! out as a pedigree and a descendant chart joined at the person. As an island it pans
//! (drag, wheel, the arrow keys at the edges), zooms (buttons, Ctrl+wheel, + and -), and
//! moves between relatives with the keyboard: Up to a parent, Down to a child, Left and
//! Right along a generation, Home back to the person; Enter re-centres the chart on the
//! focused relative (their own tree page). Only the people inside the visible area (and a
//! margin) are in the page, so a tree of a thousand people stays quick. The page renders
//! the same relatives as nested lists for readers without JavaScript.

use std::collections::{BTreeMap, HashMap, HashSet};

use leptos::ev::{KeyboardEvent, PointerEvent, WheelEvent};
use leptos::prelude::*;
use types::{routes, FamilyTree, PersonSummary};
use wasm_bindgen::JsCast;

use super::search_box::go;

/// The width of one person's place in a generation, and the height of a generation.
const SLOT_WIDTH: f64 = 180.0;
const ROW_HEIGHT: f64 = 120.0;
/// A person's box inside their place.
const BOX_WIDTH: f64 = 160.0;
const BOX_HEIGHT: f64 = 64.0;
/// The viewport before the browser measures it (and on the server).
const DEFAULT_VIEWPORT: (f64, f64) = (900.0, 520.0);
/// How far past the edges of the viewport people are still rendered.
const MARGIN: f64 = SLOT_WIDTH;
const ZOOM_MIN: f64 = 0.25;
const ZOOM_MAX: f64 = 2.0;
const ZOOM_STEP: f64 = 1.25;
/// A drag shorter than this is a click.
const DRAG_THRESHOLD: f64 = 4.0;
const HELP_ID: &str = "family-chart-help";

/// One person placed on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub person: PersonSummary,
    pub generation: i32,
    /// The top-left corner of the person's box, in chart pixels.
    pub x: f64,
    pub y: f64,
    pub parents: Vec<usize>,
    pub children: Vec<usize>,
}

/// The tree laid out: its people, the lines between them and each generation in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chart {
    pub nodes: Vec<Node>,
    /// `(parent, child)` indexes into `nodes`.
    pub edges: Vec<(usize, usize)>,
    /// Each generation's people, left to right.
    pub rows: BTreeMap<i32, Vec<usize>>,
}

/// Lays out `tree`: each person without relatives further out takes the next free place
/// in their generation, and each other person is centred over (or under) the relatives
/// further out, so lines never cross within one side. The ancestors' layout is shifted so
/// the root sits at the same place in both.
pub fn layout(tree: &FamilyTree) -> Chart {
    let index: HashMap<&types::PersonId, usize> =
        tree.people.iter().enumerate().map(|(i, p)| (&p.person.id, i)).collect();
    let resolve = |ids: &[types::PersonId]| ids.iter().filter_map(|id| index.get(id).copied()).collect::<Vec<_>>();
    let mut nodes: Vec<Node> = tree
        .people
        .iter()
        .map(|p| Node {
            person: p.person.clone(),
            generation: p.generation,
            x: 0.0,
            y: 0.0,
            parents: resolve(&p.parents),
            children: resolve(&p.children),
        })
        .collect();
    if nodes.is_empty() {
        return Chart::default();
    }
    let mut down = vec![None; nodes.len()];
    let mut up = vec![None; nodes.len()];
    place(&nodes, 0, false, &mut down, &mut 0.0, 0);
    place(&nodes, 0, true, &mut up, &mut 0.0, 0);
    let shift = down[0].unwrap_or(0.0) - up[0].unwrap_or(0.0);
    let top = nodes.iter().map(|n| n.generation).min().unwrap_or(0);
    let mut rows: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    let mut edges = HashSet::new();
    for (i, node) in nodes.iter_mut().enumerate() {
        let slot = if node.generation < 0 { up[i].map(|x| x + shift) } else { down[i] };
        // Someone neither side reached (only when the data is inconsistent) is left out.
        let Some(slot) = slot else { continue };
        node.x = slot * SLOT_WIDTH;
        node.y = f64::from(node.generation - top) * ROW_HEIGHT;
        rows.entry(node.generation).or_default().push(i);
        edges.extend(node.parents.iter().map(|&p| (p, i)));
        edges.extend(node.children.iter().map(|&c| (i, c)));
    }
    for row in rows.values_mut() {
        row.sort_by(|a, b| nodes[*a].x.total_cmp(&nodes[*b].x));
    }
    let placed: HashSet<usize> = rows.values().flatten().copied().collect();
    let mut edges: Vec<(usize, usize)> =
        edges.into_iter().filter(|(a, b)| placed.contains(a) && placed.contains(b)).collect();
    edges.sort_unstable();
    Chart { nodes, edges, rows }
}

/// Places `at` and, first, the relatives further out on one side (parents when
/// `upward`); returns its slot. `depth` guards against a cycle in bad data.
fn place(nodes: &[Node], at: usize, upward: bool, slots: &mut [Option<f64>], next: &mut f64, depth: usize) -> f64 {
    if let Some(slot) = slots[at] {
        return slot;
    }
    let further = if upward { &nodes[at].parents } else { &nodes[at].children };
    let mut placed = Vec::new();
    if depth < 64 {
        for &kin in further {
            if slots[kin].is_none() {
                placed.push(place(nodes, kin, upward, slots, next, depth + 1));
            }
        }
    }
    let slot = match (placed.first(), placed.last()) {
        (Some(first), Some(last)) => (first + last) / 2.0,
        _ => {
            let slot = *next;
            *next += 1.0;
            slot
        }
    };
    slots[at] = Some(slot);
    slot
}

/// What someone is to the person the chart is about, by generation.
pub fn generation_label(generation: i32) -> String {
    let greats = |n: i32| "great-".repeat(n.max(0) as usize);
    match generation {
        0 => "the person this tree is about".to_string(),
        -1 => "parent".to_string(),
        1 => "child".to_string(),
        g if g < 0 => format!("{}grandparent", greats(-g - 2)),
        g => format!("{}grandchild", greats(g - 2)),
    }
}

impl Chart {
    /// The person the keyboard moves to from `at` with `key`, if any.
    pub fn neighbour(&self, at: usize, key: &str) -> Option<usize> {
        let node = self.nodes.get(at)?;
        let along = |offset: isize| {
            let row = self.rows.get(&node.generation)?;
            let here = row.iter().position(|&i| i == at)? as isize;
            row.get(usize::try_from(here + offset).ok()?).copied()
        };
        match key {
            "ArrowUp" => node.parents.first().copied(),
            "ArrowDown" => node.children.first().copied(),
            "ArrowLeft" => along(-1),
            "ArrowRight" => along(1),
            "Home" => Some(0),
            _ => None,
        }
    }

    /// The people whose boxes meet the chart area `(left, top, right, bottom)`.
    pub fn visible(&self, area: (f64, f64, f64, f64)) -> Vec<usize> {
        let (left, top, right, bottom) = area;
        self.rows
            .values()
            .flatten()
            .copied()
            .filter(|&i| {
                let n = &self.nodes[i];
                n.x + BOX_WIDTH >= left && n.x <= right && n.y + BOX_HEIGHT >= top && n.y <= bottom
            })
            .collect()
    }
}

/// Where the chart is looked at from: the offset of its origin in the viewport, and the
/// zoom.
#[derive(Debug, Clone, Copy, PartialEq)]
struct View {
    pan_x: f64,
    pan_y: f64,
    zoom: f64,
}

impl View {
    /// The view with `node` in the middle of a viewport of `size`.
    fn centred_on(node: &Node, size: (f64, f64), zoom: f64) -> View {
        View {
            pan_x: size.0 / 2.0 - (node.x + BOX_WIDTH / 2.0) * zoom,
            pan_y: size.1 / 2.0 - (node.y + BOX_HEIGHT / 2.0) * zoom,
            zoom,
        }
    }

    /// The chart area the viewport shows, with a margin.
    fn area(self, size: (f64, f64)) -> (f64, f64, f64, f64) {
        (
            (-self.pan_x) / self.zoom - MARGIN,
            (-self.pan_y) / self.zoom - MARGIN,
            (size.0 - self.pan_x) / self.zoom + MARGIN,
            (size.1 - self.pan_y) / self.zoom + MARGIN,
        )
    }

    /// Zoomed by `factor` around the viewport point `(x, y)`.
    fn zoomed(self, factor: f64, (x, y): (f64, f64)) -> View {
        let zoom = (self.zoom * factor).clamp(ZOOM_MIN, ZOOM_MAX);
        let applied = zoom / self.zoom;
        View { pan_x: x - (x - self.pan_x) * applied, pan_y: y - (y - self.pan_y) * applied, zoom }
    }
}

fn node_id(person: &PersonSummary) -> String {
    format!("chart-node-{}", person.id)
}

/// Focuses a chart box (an SVG group: `focus()` is the DOM's, which web-sys offers on
/// HTML elements only, so it is called by name).
fn focus_element(id: String) {
    request_animation_frame(move || {
        let element = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(&id));
        let Some(element) = element else { return };
        let focus = js_sys::Reflect::get(&element, &"focus".into()).ok();
        if let Some(focus) = focus.and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
            let _ = focus.call0(&element);
        }
    });
}

#[island]
pub fn FamilyChart(tree: FamilyTree) -> impl IntoView {
    let chart = StoredValue::new(layout(&tree));
    let root_name = tree.people.first().map(|p| p.person.name.clone()).unwrap_or_default();
    let size = RwSignal::new(DEFAULT_VIEWPORT);
    let start = chart.with_value(|c| c.nodes.first().map(|root| View::centred_on(root, DEFAULT_VIEWPORT, 1.0)));
    let view_at = RwSignal::new(start.unwrap_or(View { pan_x: 0.0, pan_y: 0.0, zoom: 1.0 }));
    let focused = RwSignal::new(0usize);
    let ready = RwSignal::new(false);
    // The pointer position a drag started from, and whether it moved far enough to be a
    // drag (then the click that ends it opens nothing).
    let drag = StoredValue::new(None::<(f64, f64, View)>);
    let dragged = StoredValue::new(false);
    let viewport = NodeRef::<leptos::html::Div>::new();

    let measure = move || {
        if let Some(el) = viewport.get_untracked() {
            let measured = (f64::from(el.client_width()), f64::from(el.client_height()));
            if measured.0 > 0.0 && measured.1 > 0.0 && measured != size.get_untracked() {
                size.set(measured);
                let node = chart.with_value(|c| c.nodes.get(focused.get_untracked()).cloned());
                if let Some(node) = node {
                    view_at.set(View::centred_on(&node, measured, view_at.get_untracked().zoom));
                }
            }
        }
    };
    Effect::new(move |_| {
        measure();
        ready.set(true);
    });
    let _resize = window_event_listener(leptos::ev::resize, move |_| measure());

    let move_focus = move |to: usize| {
        let Some(node) = chart.with_value(|c| c.nodes.get(to).cloned()) else { return };
        focused.set(to);
        view_at.set(View::centred_on(&node, size.get_untracked(), view_at.get_untracked().zoom));
        focus_element(node_id(&node.person));
    };
    let zoom_by = move |factor: f64| {
        let (w, h) = size.get_untracked();
        view_at.update(|v| *v = v.zoomed(factor, (w / 2.0, h / 2.0)));
    };
    let on_keydown = move |ev: KeyboardEvent| {
        let key = ev.key();
        match key.as_str() {
            "Enter" | " " => {
                let person = chart.with_value(|c| c.nodes.get(focused.get_untracked()).map(|n| n.person.id.clone()));
                if let Some(person) = person {
                    go(&routes::PERSON_TREE.to(&[&person]));
                }
            }
            "+" | "=" => zoom_by(ZOOM_STEP),
            "-" | "_" => zoom_by(1.0 / ZOOM_STEP),
            _ => match chart.with_value(|c| c.neighbour(focused.get_untracked(), &key)) {
                Some(to) => move_focus(to),
                None if key.starts_with("Arrow") => {}
                None => return,
            },
        }
        ev.prevent_default();
    };
    let on_pointerdown = move |ev: PointerEvent| {
        if ev.button() == 0 {
            drag.set_value(Some((f64::from(ev.client_x()), f64::from(ev.client_y()), view_at.get_untracked())));
            dragged.set_value(false);
        }
    };
    let on_pointermove = move |ev: PointerEvent| {
        let Some((x, y, from)) = drag.get_value() else { return };
        let (dx, dy) = (f64::from(ev.client_x()) - x, f64::from(ev.client_y()) - y);
        if dragged.get_value() || dx.abs() + dy.abs() > DRAG_THRESHOLD {
            dragged.set_value(true);
            view_at.set(View { pan_x: from.pan_x + dx, pan_y: from.pan_y + dy, zoom: from.zoom });
        }
    };
    let end_drag = move |_: PointerEvent| drag.set_value(None);
    let on_wheel = move |ev: WheelEvent| {
        ev.prevent_default();
        if ev.ctrl_key() || ev.meta_key() {
            let factor = if ev.delta_y() < 0.0 { ZOOM_STEP } else { 1.0 / ZOOM_STEP };
            let point = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
            view_at.update(|v| *v = v.zoomed(factor, point));
        } else {
            view_at.update(|v| {
                v.pan_x -= ev.delta_x();
                v.pan_y -= ev.delta_y();
            });
        }
    };

    let visible = Memo::new(move |_| {
        let area = view_at.get().area(size.get());
        chart.with_value(|c| c.visible(area))
    });
    // SVG attributes, not inline styles: the page's Content-Security-Policy allows no
    // `style` attributes, and `transform`, `x` and `y` on SVG elements are not styles.
    let transform = move || {
        let v = view_at.get();
        format!("translate({} {}) scale({})", px(v.pan_x), px(v.pan_y), thousandths(v.zoom))
    };
    let lines = move || {
        let shown: HashSet<usize> = visible.get().into_iter().collect();
        chart.with_value(|c| {
            c.edges
                .iter()
                .filter(|(a, b)| shown.contains(a) || shown.contains(b))
                .map(|&(parent, child)| {
                    let (p, k) = (&c.nodes[parent], &c.nodes[child]);
                    let (x1, y1) = (p.x + BOX_WIDTH / 2.0, p.y + BOX_HEIGHT);
                    let (x2, y2) = (k.x + BOX_WIDTH / 2.0, k.y);
                    let middle = (y1 + y2) / 2.0;
                    let d = format!("M{},{} V{} H{} V{}", px(x1), px(y1), px(middle), px(x2), px(y2));
                    view! { <path class="chart-line" d=d/> }
                })
                .collect_view()
        })
    };
    let boxes = move || {
        let focus = focused.get();
        visible
            .get()
            .into_iter()
            .map(|i| {
                let node = chart.with_value(|c| c.nodes[i].clone());
                let years = &node.person.life_years;
                let label = format!("{}, {}", node.person.with_years(), generation_label(node.generation));
                let class = match (i == 0, node.person.private) {
                    (true, _) => "chart-node chart-root",
                    (false, true) => "chart-node private",
                    (false, false) => "chart-node",
                };
                let href = routes::PERSON_TREE.to(&[&node.person.id]);
                view! {
                    // A group with the link role: an `<a>` made in the browser inside an SVG
                    // would be an HTML element there, and not drawn.
                    <g
                        id=node_id(&node.person)
                        class=class
                        role="link"
                        transform=format!("translate({} {})", px(node.x), px(node.y))
                        tabindex=if i == focus { "0" } else { "-1" }
                        aria-label=label
                        aria-describedby=HELP_ID
                        aria-current=(i == 0).then_some("true")
                        on:focus=move |_| focused.set(i)
                        on:click=move |_| {
                            if !dragged.get_value() {
                                go(&href);
                            }
                        }
                    >
                        <rect class="chart-box" width=px(BOX_WIDTH).to_string() height=px(BOX_HEIGHT).to_string() rx="6"/>
                        <text class="chart-name" x="10" y="27">{shortened(&node.person.name)}</text>
                        <text class="chart-years" x="10" y="48">{years.clone()}</text>
                    </g>
                }
            })
            .collect_view()
    };

    view! {
        <div class="family-chart" data-ready=move || ready.get().then_some("true")>
            <div class="chart-controls" role="toolbar" aria-label="Chart">
                <button type="button" on:click=move |_| zoom_by(ZOOM_STEP)>"Zoom in"</button>
                <button type="button" on:click=move |_| zoom_by(1.0 / ZOOM_STEP)>"Zoom out"</button>
                <button type="button" on:click=move |_| move_focus(0)>"Back to the person"</button>
            </div>
            <div
                class="chart-viewport"
                node_ref=viewport
                role="application"
                aria-roledescription="family tree chart"
                aria-label=format!("Family tree of {root_name}")
                on:keydown=on_keydown
                on:pointerdown=on_pointerdown
                on:pointermove=on_pointermove
                on:pointerup=end_drag
                on:pointerleave=end_drag
                on:wheel=on_wheel
            >
                <svg class="chart-canvas" width="100%" height="100%">
                    <g class="chart-view" transform=transform>
                        <g aria-hidden="true">{lines}</g>
                        {boxes}
                    </g>
                </svg>
            </div>
            <p class="hint" id=HELP_ID>
                "Arrow keys move between relatives: up to a parent, down to a child, left and right along a generation; \
                 Home goes back to the person, Enter centres the tree on the one chosen, + and - zoom. Drag to move the chart."
            </p>
        </div>
    }
}

// Numbers for SVG attributes are written as integers (and the zoom as thousandths):
// formatting an `f64` would add Rust's float printing, tens of KiB, to the WASM.

/// Whole pixels.
fn px(value: f64) -> i64 {
    value.round() as i64
}

/// A positive number with three decimals: 0.800.
fn thousandths(value: f64) -> String {
    let milli = (value * 1000.0).round() as i64;
    format!("{}.{:03}", milli / 1000, milli % 1000)
}

/// A name cut to what fits a box.
fn shortened(name: &str) -> String {
    const FITS: usize = 20;
    if name.chars().count() <= FITS {
        name.to_string()
    } else {
        name.chars().take(FITS - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use types::{LegacyId, PersonId, Sex, TreePerson};

    use super::*;

    fn person(id: &str, generation: i32, parents: &[&str], children: &[&str]) -> TreePerson {
        let ids = |list: &[&str]| list.iter().map(|s| PersonId::new(*s)).collect();
        TreePerson {
            person: PersonSummary {
                id: PersonId::new(id),
                name: id.to_string(),
                life_years: String::new(),
                sex: Sex::Unknown,
                private: false,
            },
            generation,
            parents: ids(parents),
            children: ids(children),
        }
    }

    fn tree(people: Vec<TreePerson>) -> FamilyTree {
        FamilyTree {
            root: people[0].person.id.clone(),
            legacy_id: LegacyId::new("l"),
            legacy_name: String::new(),
            up: 2,
            down: 2,
            people,
            truncated: false,
        }
    }

    /// Root with two parents (one with two parents of their own) and two children, one
    /// with a child.
    fn family() -> Chart {
        layout(&tree(vec![
            person("root", 0, &["mum", "dad"], &["kid1", "kid2"]),
            person("mum", -1, &["gran", "grandad"], &[]),
            person("dad", -1, &[], &[]),
            person("kid1", 1, &[], &["grandkid"]),
            person("kid2", 1, &[], &[]),
            person("gran", -2, &[], &[]),
            person("grandad", -2, &[], &[]),
            person("grandkid", 2, &[], &[]),
        ]))
    }

    fn x_of(chart: &Chart, id: &str) -> f64 {
        chart.nodes.iter().find(|n| n.person.id.as_str() == id).map(|n| n.x).unwrap_or(f64::NAN)
    }

    #[test]
    fn parents_sit_over_their_children_and_generations_stack() {
        let chart = family();
        assert_eq!(x_of(&chart, "root"), (x_of(&chart, "mum") + x_of(&chart, "dad")) / 2.0);
        assert_eq!(x_of(&chart, "mum"), (x_of(&chart, "gran") + x_of(&chart, "grandad")) / 2.0);
        assert_eq!(x_of(&chart, "root"), (x_of(&chart, "kid1") + x_of(&chart, "kid2")) / 2.0);
        assert_eq!(x_of(&chart, "kid1"), x_of(&chart, "grandkid"));
        let ys: Vec<f64> = ["gran", "mum", "root", "kid1", "grandkid"]
            .iter()
            .map(|id| chart.nodes.iter().find(|n| n.person.id.as_str() == *id).map_or(-1.0, |n| n.y))
            .collect();
        assert_eq!(ys, vec![0.0, ROW_HEIGHT, 2.0 * ROW_HEIGHT, 3.0 * ROW_HEIGHT, 4.0 * ROW_HEIGHT]);
        // No two people of one generation share a place.
        for row in chart.rows.values() {
            let xs: Vec<f64> = row.iter().map(|&i| chart.nodes[i].x).collect();
            assert!(xs.windows(2).all(|w| w[1] - w[0] >= SLOT_WIDTH), "{xs:?}");
        }
        assert_eq!(chart.edges.len(), 7);
    }

    #[test]
    fn the_keyboard_moves_to_parents_children_and_along_a_generation() {
        let chart = family();
        let index = |id: &str| chart.nodes.iter().position(|n| n.person.id.as_str() == id);
        let from = |id: &str, key: &str| chart.neighbour(index(id)?, key).map(|i| chart.nodes[i].person.id.to_string());
        assert_eq!(from("root", "ArrowUp").as_deref(), Some("mum"));
        assert_eq!(from("root", "ArrowDown").as_deref(), Some("kid1"));
        assert_eq!(from("mum", "ArrowRight").as_deref(), Some("dad"));
        assert_eq!(from("dad", "ArrowRight"), None);
        assert_eq!(from("kid2", "ArrowLeft").as_deref(), Some("kid1"));
        assert_eq!(from("grandkid", "Home").as_deref(), Some("root"));
        assert_eq!(from("dad", "ArrowUp"), None);
    }

    #[test]
    fn only_people_near_the_visible_area_are_rendered() {
        let kids: Vec<String> = (0..1000).map(|i| format!("c{i}")).collect();
        let kids: Vec<&str> = kids.iter().map(String::as_str).collect();
        let mut wide = vec![person("root", 0, &[], &kids)];
        wide.extend(kids.iter().map(|kid| person(kid, 1, &[], &[])));
        let chart = layout(&tree(wide));
        let view = View::centred_on(&chart.nodes[0], DEFAULT_VIEWPORT, 1.0);
        let shown = chart.visible(view.area(DEFAULT_VIEWPORT));
        assert!(shown.contains(&0));
        assert!(shown.len() < 20, "{} of 1001 rendered", shown.len());
        let zoomed_out = view.zoomed(ZOOM_MIN, (450.0, 260.0));
        assert!(chart.visible(zoomed_out.area(DEFAULT_VIEWPORT)).len() < 60);
    }

    #[test]
    fn generations_are_named() {
        assert_eq!(generation_label(-1), "parent");
        assert_eq!(generation_label(-2), "grandparent");
        assert_eq!(generation_label(-4), "great-great-grandparent");
        assert_eq!(generation_label(3), "great-grandchild");
    }
}
