//! One contract, two stores: every case of `testkit::contract` against the in-memory adapters
//! and against the DynamoDB adapter on moto, so that the in-memory conditions cannot drift from
//! the transactions'.

use testkit::contract;
use testkit::prelude::World;

macro_rules! both_stores {
    ($($case:ident),* $(,)?) => {
        mod memory {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    contract::$case(&contract::memory_store()).await;
                }
            )*
        }

        mod dynamodb {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let world = World::new().await;
                    contract::$case(&world.store()).await;
                }
            )*
        }
    };
}

both_stores!(
    the_directory_reads_the_domain_and_its_route,
    a_started_session_reads_back,
    a_login_never_overwrites,
    a_rotation_holds_only_on_the_state_it_was_decided_from,
    revocation_ends_active_sessions_only,
    a_revocation_at_a_moment_spares_ended_sessions,
    the_ledger_keeps_the_cap,
    the_listing_pages_through_active_sessions_newest_first,
);
