//! `missionctl mission create <slug>`: a new mission's identity, directory, scaffold and
//! `meta.json` with its stored topology, committed on the target branch, all or nothing.

use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use missionctl_core::mission::meta::check_human_slug;
use missionctl_core::mission::topology::MissionTopology;
use missionctl_store::clock::SystemClock;
use missionctl_store::mission::create::{
    CreateError, CreateMissionRequest, CreateOptions, CreatedMission, create_mission,
};
use missionctl_store::repo::Repo;
use missionctl_store::repo::protection::ProtectedBranches;
use missionctl_store::write::CommitIdentity;

use crate::command_error::CliError;
use crate::mission_view::render_created;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl mission create`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Create a mission on the current branch\n  missionctl mission create invoice-export\n\n  # Create a coordination mission that merges into `main`\n  missionctl mission create invoice-export --topology coord --target-branch main"
)]
pub(crate) struct MissionCreateArgs {
    /// The mission's human slug, kebab-case, such as `invoice-export`
    #[arg(value_name = "SLUG")]
    slug: String,
    /// The mission's shape (default: `coord` on the primary branch or with `--pr-bound`, else
    /// `single_branch`)
    #[arg(
        long,
        value_name = "TOPOLOGY",
        value_parser = PossibleValuesParser::new(MissionTopology::ALL.map(MissionTopology::as_str))
            .try_map(|value| value.parse::<MissionTopology>())
    )]
    topology: Option<MissionTopology>,
    /// The branch to commit the mission on and merge it into (default: the current branch)
    #[arg(long, value_name = "BRANCH")]
    target_branch: Option<String>,
    /// The display title (default: derived from the slug)
    #[arg(long, value_name = "NAME")]
    friendly_name: Option<String>,
    /// The mission type (default: `software-dev`)
    #[arg(long, value_name = "TYPE")]
    mission_type: Option<String>,
    /// The mission's purpose in one line (default: the title)
    #[arg(long, value_name = "TEXT")]
    purpose_tldr: Option<String>,
    /// The mission's purpose in a paragraph (default: a sentence naming the target branch)
    #[arg(long, value_name = "TEXT")]
    purpose_context: Option<String>,
    /// Record the mission as bound to a pull request (`pr_bound: true`)
    #[arg(long)]
    pr_bound: bool,
}

/// Creates a mission with the system clock and random mission ids: the code path of both
/// `mission create` and `demo`.
///
/// `identity` overrides the commit author and committer (`None`: `user.name` and
/// `user.email` of the repository's git configuration).
pub(crate) fn create_with(
    repo: &Repo,
    request: &CreateMissionRequest,
    protected_branches: &ProtectedBranches,
    identity: Option<CommitIdentity>,
) -> Result<CreatedMission, CliError> {
    let options = CreateOptions {
        clock: &SystemClock,
        protected_branches,
        identity,
        fail_after: None,
    };
    Ok(create_mission(repo, request, &options)?)
}

/// Creates a mission and prints what was created and where.
pub(crate) fn cmd_mission_create(ui: &mut Ui, args: &MissionCreateArgs) -> Result<(), CliError> {
    // Resolve: the slug is checked before the repository is looked for.
    check_human_slug(&args.slug).map_err(CreateError::InvalidSlug)?;
    let request = CreateMissionRequest {
        slug: args.slug.clone(),
        topology: args.topology,
        target_branch: args.target_branch.clone(),
        friendly_name: args.friendly_name.clone(),
        mission_type: args.mission_type.clone(),
        purpose_tldr: args.purpose_tldr.clone(),
        purpose_context: args.purpose_context.clone(),
        pr_bound: args.pr_bound,
    };
    let repo = workspace::discover_repo_for_writing()?;
    // Execute.
    let created = create_with(&repo, &request, &workspace::protected_branches(&repo), None)?;
    ui.emit(&created, || render_created(&created))
}
