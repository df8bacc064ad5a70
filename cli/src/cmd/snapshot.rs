//! `rlxc snapshot` (lxc-snapshot): parse, one façade call, print as LXC.

use rlxc_core::container::Container;

use super::Ctx;
use crate::args::create::SnapshotArgs;

/// Takes, lists, restores or destroys snapshots.
pub fn run(a: &SnapshotArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    if a.list {
        let c = Container::named(&paths, &a.name)?;
        let list = c.snapshot_list()?;
        if list.is_empty() {
            println!("No snapshots");
        }
        for s in list {
            println!("{} ({}) {}", s.name, s.lxcpath.display(), s.timestamp);
            if let (true, Some(text)) = (a.showcomments, &s.comment) {
                print!("{text}");
                if !text.ends_with('\n') {
                    println!();
                }
            }
        }
        return Ok(());
    }
    if let Some(snap) = &a.destroy {
        return Ok(Container::named(&paths, &a.name)?.snapshot_destroy(&ctx.registry, snap)?);
    }
    let c = Container::load(&paths, &a.name, None, &[], false)?;
    if let Some(snap) = &a.restore {
        let new = a.newname.as_deref().or(a.newname_arg.as_deref());
        return Ok(c.snapshot_restore(&ctx.registry, snap, new)?);
    }
    let name = c.snapshot_create(&ctx.registry, a.comment.as_deref())?;
    tracing::info!("container `{}`: snapshot {name} taken", a.name);
    Ok(())
}
