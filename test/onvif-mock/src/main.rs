//! Camstack's test runner for the oxvif ONVIF device mock (the `mock-server` feature).
//! Usage: camstack-onvif-mock <port> [--auth USER:PASSWORD] [--ack renew,unsubscribe,sync]
//!                                    [--discoverable NAME]
//! Prints `listening <device url>` once bound, then serves until SIGTERM/SIGINT.
use oxvif::mock::{AckOnlyOperation, DeviceState, MockServer};
use oxvif::mock::state::MockUser;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args.first().and_then(|p| p.parse().ok()).expect("usage: camstack-onvif-mock <port> [options]");
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let mut builder = MockServer::builder().port(port);
    if let Some(auth) = opt("--auth") {
        let (user, password) = auth.split_once(':').expect("--auth USER:PASSWORD");
        let mut state = DeviceState::default();
        state.users = vec![MockUser { username: user.into(), level: "Administrator".into(), password: password.into() }];
        builder = builder.initial_state(state).enforce_auth(true);
    }
    for op in opt("--ack").unwrap_or_default().split(',').filter(|s| !s.is_empty()) {
        builder = builder.with_acknowledgment_only(match op {
            "renew" => AckOnlyOperation::EventsRenew,
            "unsubscribe" => AckOnlyOperation::EventsUnsubscribe,
            "sync" => AckOnlyOperation::EventsSynchronizationPoint,
            other => panic!("unknown --ack operation {other}"),
        });
    }
    if let Some(name) = opt("--discoverable") {
        builder = builder.discoverable(vec![
            format!("onvif://www.onvif.org/name/{}", name.replace('%', "%25").replace(' ', "%20")),
            "onvif://www.onvif.org/hardware/MockCam-1080p".into(),
            "onvif://www.onvif.org/type/video_encoder".into(),
        ]);
    }
    let server = builder.start().await?;
    println!("listening {}", server.device_url());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
    server.shutdown().await
}
