//! The patrol recorder on the grid worker's phone: a Leptos island.
//!
//! On the server it renders the status line with what the database holds
//! (points kept, the last fix), so without JavaScript or WASM the page is
//! simply right and the buttons around it are plain forms. In the worker's
//! WASM module (feature `worker`) the island hydrates and `client` takes
//! over: it records the track with `watchPosition`, keeps the screen on,
//! notes gaps with their reasons, and keeps every fix, check-in and event
//! in an IndexedDB outbox of [`domain::patrol::outbox::Kept`] until the
//! server has it, sending batches built by `outbox::next_batch` as the
//! same `Batch` type the server parses.
//!
//! The resident's module (no `worker` feature) compiles this as a plain
//! component: it never renders there and brings no island code to a
//! resident's phone.

#[cfg(feature = "worker")]
mod client;
#[cfg(feature = "worker")]
mod page;
#[cfg(feature = "worker")]
pub mod store;

use crate::i18n::{t, Lang};
use domain::patrol::guide::Waypoint;
use domain::patrol::{PatrolState, TrackMap};
use leptos::prelude::*;

/// What the status line says, from the recorder's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    pub state: Option<PatrolState>,
    /// `watchPosition` is running.
    pub recording: bool,
    /// Fixes recorded by this page since it opened.
    pub recorded: u32,
    /// The last fix's accuracy in metres.
    pub accuracy: Option<f64>,
    /// In the outbox and waiting to be sent.
    pub waiting: usize,
    /// Refused by the server and kept on the phone.
    pub refused: usize,
    /// The screen is kept on.
    pub wake: bool,
    pub online: bool,
    /// The latest thing worth saying (offline, signed out, …).
    pub message: String,
}

impl Status {
    /// One line, parts joined by " · ": what is recorded, what waits, what
    /// was refused. It counts what is in the outbox, so it never says
    /// "all sent" while something waits.
    pub fn text(&self, lang: Lang) -> String {
        let mut parts: Vec<String> = Vec::new();
        match self.state {
            Some(PatrolState::Active) => parts.push(
                if self.recording {
                    t(lang, "正在记录轨迹", "Recording")
                } else {
                    t(lang, "未在记录", "Not recording")
                }
                .into(),
            ),
            Some(PatrolState::Paused) => parts.push(t(lang, "已暂停,不记录位置", "Paused: not recording").into()),
            _ => {}
        }
        if !self.online {
            parts.push(t(lang, "离线", "offline").into());
        }
        if self.recorded > 0 {
            parts.push(format!(
                "{}{}{}",
                t(lang, "本次已记录 ", "recorded "),
                self.recorded,
                t(lang, " 点", " points")
            ));
        }
        if let Some(a) = self.accuracy {
            parts.push(format!("{}{}{}", t(lang, "精度 ±", "accuracy ±"), a.round(), t(lang, " 米", " m")));
        }
        parts.push(if self.waiting > 0 {
            format!("{}{}", t(lang, "待发送 ", "waiting to send: "), self.waiting)
        } else {
            t(lang, "已全部发送", "all sent").into()
        });
        if self.wake {
            parts.push(t(lang, "屏幕常亮", "screen kept on").into());
        }
        if self.refused > 0 {
            parts.push(format!("{}{}", t(lang, "被拒绝 ", "refused: "), self.refused));
        }
        if !self.message.is_empty() {
            parts.push(self.message.clone());
        }
        parts.join(" · ")
    }
}

/// The status line of an open patrol, and the guidance under it. `kept` and
/// `last_fix` are the server's figures for the first paint; the recorder
/// replaces them with its own once it runs. `route` and `ordered` say which
/// checkpoint is next; `map` is the projection of the route's sketch on the
/// page (`#route-map`), where the recorder places the worker (`#me`).
#[cfg_attr(any(feature = "ssr", feature = "worker"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "worker")), component)]
pub fn PatrolRecorder(
    patrol: i64,
    state: PatrolState,
    lang: Lang,
    kept: u64,
    last_fix: Option<String>,
    route: Vec<Waypoint>,
    ordered: bool,
    map: Option<TrackMap>,
) -> impl IntoView {
    #[cfg(feature = "worker")]
    client::start(client::Setup { patrol, state, lang, route, ordered, map });
    #[cfg(not(feature = "worker"))]
    let _ = (patrol, state, route, ordered, map);
    let first = match last_fix {
        Some(l) => format!("{}{kept}{}{l}", t(lang, "已记录轨迹点 ", "Track points: "), t(lang, ",最近 ", ", last ")),
        None if kept > 0 => format!("{}{kept}", t(lang, "已记录轨迹点 ", "Track points: ")),
        None => String::new(),
    };
    view! {
        <p id="rec" class="rec" role="status" aria-live="polite">
            {first}
        </p>
        <p id="next-cp" class="next-cp" aria-live="polite"></p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_counts_what_waits_and_says_when_offline() {
        let mut s = Status { state: Some(PatrolState::Active), recording: true, online: true, ..Status::default() };
        assert_eq!(s.text(Lang::Zh), "正在记录轨迹 · 已全部发送");
        s.recorded = 12;
        s.accuracy = Some(7.6);
        s.waiting = 3;
        s.refused = 1;
        s.online = false;
        assert_eq!(s.text(Lang::Zh), "正在记录轨迹 · 离线 · 本次已记录 12 点 · 精度 ±8 米 · 待发送 3 · 被拒绝 1");
        s.state = Some(PatrolState::Paused);
        s.message = "Saved".into();
        assert_eq!(
            s.text(Lang::En),
            "Paused: not recording · offline · recorded 12 points · accuracy ±8 m · waiting to send: 3 · refused: 1 · Saved"
        );
    }
}
