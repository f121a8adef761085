//! Read models shared by the board, `wp list`, `next` and the dashboard.

pub mod status_board;
pub mod work_package_view;
