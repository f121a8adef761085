//! The kanban board: work packages in one column per display lane, as plain text that reads
//! the same with or without colour.

use missionctl_core::Lane;
use missionctl_core::status::snapshot::StatusSnapshot;

/// The space between two columns.
const GUTTER: &str = "  ";

/// Returns the board of a snapshot (every work package of its log), as [`render_cards`] does.
pub(crate) fn render_board(snapshot: &StatusSnapshot) -> String {
    let cards: Vec<(String, Lane)> = snapshot
        .work_packages
        .iter()
        .map(|(wp_id, state)| (wp_id.clone(), state.lane))
        .collect();
    render_cards(&cards, &[])
}

/// Returns the board of some cards: a header row with each display lane, a rule, the cards of
/// each lane in the given order (one per row), then a line of counts.
///
/// Cards outside the display lanes (`genesis`: a task file without events; `uninitialized`:
/// annotations only) are not on the board, and neither are `log_only` work packages (events
/// without a task file): the last line names them. Every line ends with `\n` and has no
/// trailing spaces.
pub(crate) fn render_cards(cards: &[(String, Lane)], log_only: &[(String, Lane)]) -> String {
    let columns: Vec<(Lane, Vec<&str>)> = Lane::DISPLAY
        .into_iter()
        .map(|lane| {
            let in_lane = cards
                .iter()
                .filter(|(_, card_lane)| *card_lane == lane)
                .map(|(wp_id, _)| wp_id.as_str())
                .collect();
            (lane, in_lane)
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .map(|(lane, cards)| {
            cards
                .iter()
                .map(|card| card.chars().count())
                .fold(lane.as_str().len(), usize::max)
        })
        .collect();
    let height = columns
        .iter()
        .map(|(_, cards)| cards.len())
        .max()
        .unwrap_or(0);

    let mut text = String::new();
    push_row(&mut text, &widths, |column| {
        columns[column].0.as_str().to_owned()
    });
    push_row(&mut text, &widths, |column| "-".repeat(widths[column]));
    for row in 0..height {
        push_row(&mut text, &widths, |column| {
            columns[column]
                .1
                .get(row)
                .map_or_else(String::new, |card| (*card).to_owned())
        });
    }
    text.push_str(&count_line(cards, &columns, log_only));
    text
}

/// Returns the closing line: how many work packages there are and in which lanes.
fn count_line(
    cards: &[(String, Lane)],
    columns: &[(Lane, Vec<&str>)],
    log_only: &[(String, Lane)],
) -> String {
    let total = cards.len();
    let mut parts: Vec<String> = columns
        .iter()
        .filter(|(_, cards)| !cards.is_empty())
        .map(|(lane, cards)| format!("{} {lane}", cards.len()))
        .collect();
    let off_board: Vec<String> = Lane::ALL
        .into_iter()
        .filter(|lane| !lane.is_display())
        .filter_map(|lane| {
            let ids: Vec<&str> = cards
                .iter()
                .filter(|(_, card_lane)| *card_lane == lane)
                .map(|(wp_id, _)| wp_id.as_str())
                .collect();
            (!ids.is_empty()).then(|| format!("{} {lane}", ids.join(", ")))
        })
        .collect();
    if !off_board.is_empty() {
        parts.push(format!("not on the board: {}", off_board.join(", ")));
    }
    if !log_only.is_empty() {
        let listed: Vec<String> = log_only
            .iter()
            .map(|(wp_id, lane)| format!("{wp_id} {lane}"))
            .collect();
        parts.push(format!(
            "in the log without a task file: {}",
            listed.join(", ")
        ));
    }
    let noun = if total == 1 {
        "work package"
    } else {
        "work packages"
    };
    if parts.is_empty() {
        format!("{total} {noun}\n")
    } else {
        format!("{total} {noun}: {}\n", parts.join(", "))
    }
}

/// Appends one row of padded cells, without trailing spaces.
fn push_row(text: &mut String, widths: &[usize], cell: impl Fn(usize) -> String) {
    let mut line = String::new();
    for (column, width) in widths.iter().enumerate() {
        if column > 0 {
            line.push_str(GUTTER);
        }
        let content = cell(column);
        let padding = width.saturating_sub(content.chars().count());
        line.push_str(&content);
        line.push_str(&" ".repeat(padding));
    }
    text.push_str(line.trim_end());
    text.push('\n');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use missionctl_core::status::snapshot::WpState;

    use super::*;

    fn state(lane: Lane) -> WpState {
        WpState {
            lane,
            actor: "claude".to_owned(),
            last_transition_at: None,
            last_event_id: None,
            force_count: 0,
            slots: BTreeMap::new(),
        }
    }

    #[test]
    fn one_column_per_display_lane() {
        let mut snapshot = StatusSnapshot::default();
        for (wp_id, lane) in [
            ("WP01", Lane::Done),
            ("WP02", Lane::ForReview),
            ("WP03", Lane::InProgress),
            ("WP04", Lane::Done),
            ("WP05", Lane::Uninitialized),
        ] {
            snapshot.work_packages.insert(wp_id.to_owned(), state(lane));
        }
        let board = render_board(&snapshot);
        let lines: Vec<&str> = board.lines().collect();
        assert_eq!(
            lines,
            [
                "planned  claimed  in_progress  for_review  in_review  approved  done  blocked  canceled",
                "-------  -------  -----------  ----------  ---------  --------  ----  -------  --------",
                "                  WP03         WP02                             WP01",
                "                                                                WP04",
                "5 work packages: 1 in_progress, 1 for_review, 2 done, not on the board: WP05 uninitialized",
            ]
        );
        assert!(board.ends_with('\n'));
    }

    #[test]
    fn an_empty_mission_has_headers_only() {
        let board = render_board(&StatusSnapshot::default());
        let lines: Vec<&str> = board.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("planned  claimed"));
        assert_eq!(lines[2], "0 work packages");
    }

    #[test]
    fn long_ids_widen_their_column() {
        let mut snapshot = StatusSnapshot::default();
        snapshot
            .work_packages
            .insert("WP01-a-long-name".to_owned(), state(Lane::Planned));
        let board = render_board(&snapshot);
        let lines: Vec<&str> = board.lines().collect();
        assert!(lines[0].starts_with("planned           claimed"), "{board}");
        assert_eq!(lines[2], "WP01-a-long-name");
        assert_eq!(lines[3], "1 work package: 1 planned");
    }
}

#[cfg(test)]
mod card_tests {
    use super::*;

    #[test]
    fn task_files_without_events_and_log_only_ids_are_named_below() {
        let cards = vec![
            ("WP01".to_owned(), Lane::Done),
            ("WP02".to_owned(), Lane::Genesis),
        ];
        let board = render_cards(&cards, &[("WP03".to_owned(), Lane::Done)]);
        assert_eq!(
            board.lines().last(),
            Some(
                "2 work packages: 1 done, not on the board: WP02 genesis, \
                 in the log without a task file: WP03 done"
            )
        );
    }
}
