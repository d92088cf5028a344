//! One gateway, many peers: a connection whose remote side is a /16 serves a hundred
//! clients, each with its own IKE SA and Child SA, and every packet reaches only its own
//! client (RFC 4301 §4.4.1.2, §5.1: outbound packets go on the SA negotiated for their
//! selectors, not on whatever SA the configured policy last met).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::{Net, udp_packet};
use ipsec::{Child, Config, Connection, Endpoint, Event, Secret, SendOutcome, StartAction};
use ipsec_crypto::SeededRandom;

const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 5);

fn client_inner(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 99, (i / 250) as u8, (i % 250) as u8 + 1)
}

fn client_outer(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(100, 64, (i / 250) as u8, (i % 250) as u8 + 1)
}

/// The gateway: one connection for every client of `*.clients.example`, a group key.
fn gateway(now: Instant) -> Endpoint {
    let connection = Connection::builder("rw")
        .local_addrs(&GATEWAY.to_string())
        .remote_addrs("%any")
        .local_id("gw.example")
        .remote_id("*.clients.example")
        .proposals("aes128gcm16-prfsha256-x25519")
        .child(
            Child::builder("net")
                .local_ts("10.1.0.0/16")
                .remote_ts("10.99.0.0/16")
                .esp_proposals("aes128gcm16")
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .unwrap()
        .secret(
            Secret::new(
                &["gw.example", "*.clients.example"],
                b"the clients' group key",
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    Endpoint::new(now, config, Box::new(SeededRandom::from_u64(1))).unwrap()
}

/// A client at client `outer`'s address, with client `identity`'s identity and `key`,
/// asking for client `inner`'s inner address; traffic to the gateway's network starts it.
fn client_as(
    now: Instant,
    outer: u32,
    identity: u32,
    key: &[u8],
    inner: u32,
    seed: u64,
) -> Endpoint {
    let connection = Connection::builder("home")
        .local_addrs(&client_outer(outer).to_string())
        .remote_addrs(&GATEWAY.to_string())
        .local_id(&format!("client{identity}.clients.example"))
        .remote_id("gw.example")
        .psk(key)
        .proposals("aes128gcm16-prfsha256-x25519")
        .child(
            Child::builder("net")
                .local_ts(&format!("{}/32", client_inner(inner)))
                .remote_ts("10.1.0.0/16")
                .esp_proposals("aes128gcm16")
                .start_action(StartAction::Trap)
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .unwrap()
        .build()
        .unwrap();
    Endpoint::new(now, config, Box::new(SeededRandom::from_u64(seed))).unwrap()
}

/// Client `i`, with the group key and its own inner address.
fn client(now: Instant, i: u32) -> Endpoint {
    client_as(now, i, i, GROUP_KEY, i, 1000 + u64::from(i))
}

/// The clients' group key.
const GROUP_KEY: &[u8] = b"the clients' group key";

#[test]
fn a_hundred_clients_on_one_connection_each_get_only_their_own_packets() {
    const CLIENTS: u32 = 100;
    let mut net = Net::new();
    let start = net.now;
    let gw = net.add("gateway", GATEWAY.into(), gateway(start));
    let clients: Vec<usize> = (0..CLIENTS)
        .map(|i| {
            net.add(
                &format!("client{i}"),
                client_outer(i).into(),
                client(start, i),
            )
        })
        .collect();

    // Each client's first packet starts its IKE SA (the trap) and is dropped meanwhile.
    for (i, node) in clients.iter().enumerate() {
        let packet = udp_packet(client_inner(i as u32), SERVER, b"hello");
        assert_eq!(net.send(*node, &packet), SendOutcome::Acquiring);
    }
    net.run(Duration::from_secs(5));
    let ike_sas = net.nodes[gw].endpoint.ike_sas(net.now);
    assert_eq!(ike_sas.len(), CLIENTS as usize);
    assert!(ike_sas.iter().all(|s| s.connection == "rw"));
    let child_sas = net.nodes[gw].endpoint.child_sas(net.now);
    assert_eq!(child_sas.len(), CLIENTS as usize);
    assert!(
        child_sas
            .iter()
            .all(|c| c.connection == "rw" && c.child == "net")
    );
    assert_eq!(net.nodes[gw].endpoint.spd().sa_count(), CLIENTS as usize);

    // Every client sends up; the gateway answers each on its own SA, in reverse order so
    // that no answer rides on the SA installed last.
    for (i, node) in clients.iter().enumerate() {
        let packet = udp_packet(client_inner(i as u32), SERVER, format!("up {i}").as_bytes());
        assert_eq!(net.send(*node, &packet), SendOutcome::Sent);
    }
    net.run(Duration::from_secs(1));
    assert_eq!(net.nodes[gw].delivered.len(), CLIENTS as usize);
    let mut answers = Vec::new();
    for i in (0..CLIENTS).rev() {
        let packet = udp_packet(
            SERVER,
            client_inner(i),
            format!("down to client {i}").as_bytes(),
        );
        assert_eq!(net.send(gw, &packet), SendOutcome::Sent, "client {i}");
        answers.push((i, packet));
    }
    net.run(Duration::from_secs(1));
    for (i, packet) in answers {
        let node = &net.nodes[clients[i as usize]];
        assert_eq!(
            node.delivered.len(),
            1,
            "client {i} got {} packets",
            node.delivered.len()
        );
        assert_eq!(
            node.delivered[0].0.as_ref(),
            packet.as_slice(),
            "client {i}"
        );
        // The gateway's counters agree: one packet in and one out on each Child SA.
        let sa = node.delivered[0].1;
        let seen = child_sas
            .iter()
            .find(|c| c.outbound_spi == sa)
            .map(|c| c.inbound_spi)
            .and_then(|spi| net.nodes[gw].endpoint.child_sa(net.now, spi))
            .unwrap();
        assert_eq!((seen.traffic.packets_in, seen.traffic.packets_out), (1, 1));
    }
    let totals = net.nodes[gw].endpoint.connections();
    assert_eq!(totals.len(), 1);
    assert_eq!(totals[0].ike_sas, CLIENTS as usize);
    assert_eq!(totals[0].traffic.packets_in, u64::from(CLIENTS));
    assert_eq!(totals[0].traffic.packets_out, u64::from(CLIENTS));

    // A client that leaves takes only its own SAs; the others still get their packets.
    let leaving = clients[17];
    net.with(leaving, |e, now| e.disconnect_all(now));
    net.run(Duration::from_secs(1));
    assert_eq!(
        net.nodes[gw].endpoint.ike_sas(net.now).len(),
        CLIENTS as usize - 1
    );
    assert!(net.nodes[gw].events.iter().any(|e| matches!(
        e,
        Event::IkeSaClosed { connection, reason: ipsec::CloseReason::PeerDelete, .. } if connection == "rw"
    )));
    let gone = udp_packet(SERVER, client_inner(17), b"nobody home");
    assert_eq!(net.send(gw, &gone), SendOutcome::Discarded);
    let still = udp_packet(SERVER, client_inner(18), b"still here");
    assert_eq!(net.send(gw, &still), SendOutcome::Sent);
    net.run(Duration::from_secs(1));
    assert_eq!(net.nodes[clients[18]].delivered.len(), 2);
}

/// A key per user (swanctl's `secrets` with one `ike-*` section each): each client proves
/// its own key; one that presents another user's identity with its own key is refused,
/// with its address and identity reported.
#[test]
fn a_key_per_user_on_one_connection() {
    let mut net = Net::new();
    let start = net.now;
    let connection = Connection::builder("rw")
        .local_addrs(&GATEWAY.to_string())
        .local_id("gw.example")
        .remote_id("*.clients.example")
        .proposals("aes128gcm16-prfsha256-x25519")
        .child(
            Child::builder("net")
                .local_ts("10.1.0.0/16")
                .remote_ts("10.99.0.0/16")
                .esp_proposals("aes128gcm16")
                .build(),
        )
        .build();
    let mut config = Config::builder().connection(connection).unwrap();
    for i in 0..3u32 {
        config = config.secret(
            Secret::new(
                &["gw.example", &format!("client{i}.clients.example")],
                format!("key of client {i}").as_bytes(),
            )
            .unwrap(),
        );
    }
    let gw = net.add(
        "gateway",
        GATEWAY.into(),
        Endpoint::new(
            start,
            config.build().unwrap(),
            Box::new(SeededRandom::from_u64(1)),
        )
        .unwrap(),
    );
    let user =
        |i: u32, id: u32, key: &str| client_as(start, i, id, key.as_bytes(), i, 50 + u64::from(i));
    let good: Vec<usize> = (0..3)
        .map(|i| {
            net.add(
                &format!("c{i}"),
                client_outer(i).into(),
                user(i, i, &format!("key of client {i}")),
            )
        })
        .collect();
    // Client 3 claims to be client 0 but holds client 1's key.
    let impostor = net.add(
        "impostor",
        client_outer(3).into(),
        user(3, 0, "key of client 1"),
    );
    for node in good.iter().chain([&impostor]) {
        net.with(*node, |e, now| e.connect(now, "home")).unwrap();
    }
    net.run(Duration::from_secs(3));
    assert_eq!(net.nodes[gw].endpoint.ike_sas(net.now).len(), 3);
    assert!(net.nodes[gw].events.iter().any(|e| matches!(
        e,
        Event::PeerRefused { remote, peer_id: Some(id), reason: ipsec::isakmp::NotifyType::AuthenticationFailed, .. }
            if remote.ip() == std::net::IpAddr::from(client_outer(3)) && id.to_string() == "client0.clients.example"
    )));
    assert!(net.nodes[impostor].endpoint.ike_sas(net.now).is_empty());
}

/// A client that claims an inner address another client already has (nothing assigns
/// addresses without a pool) does not take that client's traffic over: among equally
/// specific SAs of the connection, the first one keeps it.
#[test]
fn a_later_client_cannot_take_another_clients_address() {
    let mut net = Net::new();
    let start = net.now;
    let gw = net.add("gateway", GATEWAY.into(), gateway(start));
    let owner = net.add("owner", client_outer(0).into(), client(start, 0));
    net.with(owner, |e, now| e.connect(now, "home")).unwrap();
    net.run(Duration::from_secs(2));
    // Client 1 proposes client 0's inner address as its own.
    let thief = net.add(
        "thief",
        client_outer(1).into(),
        client_as(start, 1, 1, GROUP_KEY, 0, 99),
    );
    net.with(thief, |e, now| e.connect(now, "home")).unwrap();
    net.run(Duration::from_secs(2));
    assert_eq!(net.nodes[gw].endpoint.child_sas(net.now).len(), 2);
    let down = udp_packet(SERVER, client_inner(0), b"for the owner");
    assert_eq!(net.send(gw, &down), SendOutcome::Sent);
    net.run(Duration::from_secs(1));
    assert_eq!(net.nodes[owner].delivered.len(), 1);
    assert!(net.nodes[thief].delivered.is_empty());
}
