//! The mock contact center over real loopback sockets: plain and TLS,
//! HTTP/1.1 and HTTP/2, every method, every error path, and whole chats.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chatload::api::bodies::{Availability, ChatCreated, FileUploaded, ServiceState, SmsRequested};
use chatload::api::events::{EventsBody, ServerEvent};
use chatload::api::lenient::Flag;
use chatload::api::{ApiVersion, Credentials, Endpoint, ErrorBody, TENANT_QUERY};
use chatload::mock::{EmbeddedMock, MockConfig, StatsSnapshot, start_embedded};
use chatload::scenario::DurationRange;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

/// Every test ends well inside this, or fails instead of hanging.
const TEST_LIMIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Http {
    One,
    Two,
}

/// A mock and a client that trusts exactly its certificate.
struct Harness {
    mock: EmbeddedMock,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    version: ApiVersion,
}

/// One answer.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn error_code(&self) -> u16 {
        self.json::<ErrorBody>().error_code.0
    }
}

fn quick_config() -> MockConfig {
    MockConfig {
        reply_delay: DurationRange::fixed(Duration::from_millis(20)),
        poll_hold: Duration::from_millis(400),
        ..MockConfig::default()
    }
}

impl Harness {
    async fn start(config: MockConfig, tls: bool, http: Http) -> Harness {
        let mock = start_embedded(config, tls).await.unwrap();
        let client = client(mock.cert_pem.as_deref(), http);
        Harness {
            mock,
            client,
            version: ApiVersion::V2,
        }
    }

    async fn plain(config: MockConfig) -> Harness {
        Harness::start(config, false, Http::One).await
    }

    fn v1(mut self) -> Harness {
        self.version = ApiVersion::V1;
        self
    }

    fn url(&self, endpoint: Endpoint, chat: &str, item: &str) -> String {
        let path = endpoint.path(self.version, chat, item);
        format!(
            "{}{path}?nonce=1&{TENANT_QUERY}=tenant.example",
            self.mock.url
        )
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> Answer {
        let response = self.client.request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    async fn call(
        &self,
        endpoint: Endpoint,
        client: &str,
        chat: &str,
        body: Option<Value>,
    ) -> Answer {
        let method = if endpoint.verb() == chatload::api::paths::Verb::Get {
            Method::GET
        } else {
            Method::POST
        };
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(self.url(endpoint, chat, ""))
            .header(
                "authorization",
                Credentials::new("LoadTest", client).header_value(),
            )
            .header("content-type", "application/json")
            .body(Full::new(body))
            .unwrap();
        self.send(request).await
    }

    async fn request_chat(&self, client: &str) -> ChatCreated {
        let answer = self
            .call(
                Endpoint::RequestChat,
                client,
                "",
                Some(json!({"from": "t"})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        answer.json()
    }

    async fn events(&self, client: &str, chat: &str, events: Value) -> Answer {
        self.call(
            Endpoint::SendEvents,
            client,
            chat,
            Some(json!({ "events": events })),
        )
        .await
    }

    async fn poll(&self, client: &str, chat: &str) -> Vec<ServerEvent> {
        let answer = self.call(Endpoint::PollEvents, client, chat, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        answer.json::<EventsBody<ServerEvent>>().events
    }

    /// Polls until an event matches, returning everything received.
    async fn poll_until(
        &self,
        client: &str,
        chat: &str,
        done: impl Fn(&ServerEvent) -> bool,
    ) -> Vec<ServerEvent> {
        let mut seen = Vec::new();
        while !seen.iter().any(&done) {
            seen.extend(self.poll(client, chat).await);
        }
        seen
    }

    async fn stats(&self) -> StatsSnapshot {
        let request = Request::get(self.mock.stats_url())
            .body(Full::default())
            .unwrap();
        self.send(request).await.json()
    }
}

fn client(
    cert_pem: Option<&str>,
    http: Http,
) -> Client<HttpsConnector<HttpConnector>, Full<Bytes>> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(pem) = cert_pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let builder = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let mut client = Client::builder(TokioExecutor::new());
    match http {
        Http::One => client.build(builder.enable_http1().build()),
        Http::Two => client
            .http2_only(true)
            .build(builder.enable_http2().build()),
    }
}

fn client_id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

async fn bounded<F: std::future::Future>(test: F) -> F::Output {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("test ran past its time limit")
}

/// Request Chat through an agent's reply to the end, every method on the
/// way, checked in History.
async fn whole_chat(tls: bool, http: Http) {
    let mock = Harness::start(quick_config(), tls, http).await;
    let me = client_id(1);
    for endpoint in [
        Endpoint::Version,
        Endpoint::Configuration,
        Endpoint::Parameters,
        Endpoint::IceServers,
    ] {
        let answer = mock.call(endpoint, &me, "", None).await;
        assert_eq!(answer.status, StatusCode::OK, "{endpoint}");
        answer.json::<Value>();
    }
    let open: Availability = mock
        .call(Endpoint::Availability, &me, "", None)
        .await
        .json();
    assert_eq!(open.chat, ServiceState::Available);

    let created = mock.request_chat(&me).await;
    assert_eq!(created.is_new_chat, Flag(true));
    let chat = created.chat_id.clone();
    let active: Value = mock.call(Endpoint::ActiveChat, &me, "", None).await.json();
    assert_eq!(active["chat_id"], chat.as_str());

    let joined = mock
        .poll_until(&me, &chat, |e| matches!(e, ServerEvent::PartyJoined { .. }))
        .await;
    let agent = joined.iter().find_map(|e| match e {
        ServerEvent::PartyJoined { party_id, .. } => Some(party_id.clone()),
        _ => None,
    });
    let agent = agent.unwrap();

    let sent = mock
        .events(
            &me,
            &chat,
            json!([{"event": "chat_session_typing"},
            {"event": "chat_session_message", "msg_id": "m1", "msg": "Hello"},
            {"event": "chat_session_not_typing"}]),
        )
        .await;
    assert_eq!(
        (sent.status, sent.body.len()),
        (StatusCode::OK, 0),
        "v2 answers an empty 200"
    );
    let reply = mock
        .poll_until(&me, &chat, |e| matches!(e, ServerEvent::NotTyping { .. }))
        .await;
    let answered = reply
        .iter()
        .any(|e| matches!(e, ServerEvent::Message { party_id, .. } if *party_id == agent));
    assert!(answered, "{reply:?}");
    assert!(
        reply.iter().any(
            |e| matches!(e, ServerEvent::MessageRead { ref_msg_id, .. } if ref_msg_id == "m1")
        )
    );

    files_and_extras(&mock, &me, &chat, &agent).await;

    let history: EventsBody<ServerEvent> =
        mock.call(Endpoint::History, &me, &chat, None).await.json();
    let from_me = |e: &ServerEvent| {
        matches!(e, ServerEvent::Message { msg_id, party_id, .. }
            if msg_id == "m1" && *party_id == chat)
    };
    let mine = history.events.iter().position(from_me);
    let theirs = history
        .events
        .iter()
        .position(|e| matches!(e, ServerEvent::Message { party_id, .. } if *party_id == agent));
    assert!(mine.unwrap() < theirs.unwrap(), "{:?}", history.events);

    let end = mock
        .events(&me, &chat, json!([{"event": "chat_session_end"}]))
        .await;
    assert_eq!(end.status, StatusCode::OK);
    let after = mock.call(Endpoint::PollEvents, &me, &chat, None).await;
    assert_eq!(
        (after.status, after.error_code()),
        (StatusCode::NOT_FOUND, 5005)
    );
    let again = mock.request_chat(&me).await;
    assert!(again.is_new_chat.0 && again.chat_id != chat);
    mock.mock.stop().await;
}

/// Upload, Get File, the profile photo, notifications and the case methods.
async fn files_and_extras(mock: &Harness, me: &str, chat: &str, agent: &str) {
    let upload = upload(mock, me, b"hello file").await;
    assert_eq!(upload.status, StatusCode::OK);
    let uploaded: FileUploaded = upload.json();
    assert_eq!(uploaded.file_name.as_deref(), Some("a.txt"));

    let get = |endpoint, item: String| {
        let request = Request::get(mock.url(endpoint, chat, &item))
            .header(
                "authorization",
                Credentials::new("LoadTest", me).header_value(),
            )
            .body(Full::default())
            .unwrap();
        mock.send(request)
    };
    let file = get(Endpoint::GetFile, uploaded.file_id.clone()).await;
    assert_eq!(
        (file.status, &file.body[..]),
        (StatusCode::OK, &b"hello file"[..])
    );
    assert_eq!(file.headers["content-type"], "text/plain");
    let photo = get(Endpoint::ProfilePhoto, agent.to_owned()).await;
    assert_eq!(photo.status, StatusCode::OK);
    assert!(
        photo.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/")
    );
    let missing = get(Endpoint::GetFile, "nope".into()).await;
    assert_eq!(
        (missing.status, missing.error_code()),
        (StatusCode::NOT_FOUND, 5502)
    );

    let token = json!({"android_firebase_device_token": "tok"});
    let subscribed = mock
        .call(Endpoint::Notifications, me, chat, Some(token))
        .await;
    assert_eq!(
        (subscribed.status, &subscribed.body[..]),
        (StatusCode::OK, &b"{}"[..])
    );
    let cases: Value = mock
        .call(Endpoint::CaseHistory, me, chat, None)
        .await
        .json();
    assert_eq!(cases["sessions"][0]["chat_id"], chat);
    let closed = mock.call(Endpoint::CloseCase, me, chat, None).await;
    assert_eq!(closed.status, StatusCode::OK);
}

async fn upload(mock: &Harness, me: &str, data: &[u8]) -> Answer {
    let mut body = b"--b0undary\r\nContent-Disposition: form-data; name=\"file-upload-input\"; \
        filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
        .to_vec();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\r\n--b0undary--\r\n");
    let request = Request::post(mock.url(Endpoint::UploadFile, "", ""))
        .header(
            "authorization",
            Credentials::new("LoadTest", me).header_value(),
        )
        .header("content-type", "multipart/form-data; boundary=b0undary")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    mock.send(request).await
}

#[tokio::test]
async fn a_whole_chat_over_plain_http1() {
    bounded(whole_chat(false, Http::One)).await;
}

#[tokio::test]
async fn a_whole_chat_over_plain_http2() {
    bounded(whole_chat(false, Http::Two)).await;
}

#[tokio::test]
async fn a_whole_chat_over_tls_http1() {
    bounded(whole_chat(true, Http::One)).await;
}

#[tokio::test]
async fn a_whole_chat_over_tls_http2() {
    bounded(whole_chat(true, Http::Two)).await;
}

#[tokio::test]
async fn tenant_and_authorization_failures_carry_their_codes() {
    bounded(async {
        for (version, status) in [(ApiVersion::V2, 403), (ApiVersion::V1, 401)] {
            let mut mock = Harness::plain(quick_config()).await;
            mock.version = version;
            let url = mock.url(Endpoint::Availability, "", "");
            let no_tenant = format!(
                "{}{}",
                mock.mock.url,
                Endpoint::Availability.path(version, "", "")
            );
            let cases = [
                (
                    no_tenant,
                    Some(Credentials::new("A", "c").header_value()),
                    1000,
                ),
                (url.clone(), None, 2000),
                (
                    url.clone(),
                    Some("MOBILE-API-140-327-PLAIN appId".into()),
                    2001,
                ),
                (url.clone(), Some("Bearer x".into()), 2002),
                (
                    url.clone(),
                    Some("MOBILE-API-140-327-PLAIN clientId=c".into()),
                    2003,
                ),
                (
                    url.clone(),
                    Some("MOBILE-API-140-327-PLAIN appId=A".into()),
                    2004,
                ),
            ];
            for (uri, auth, code) in cases {
                let mut request = Request::get(uri);
                if let Some(auth) = auth {
                    request = request.header("authorization", auth);
                }
                let answer = mock.send(request.body(Full::default()).unwrap()).await;
                assert_eq!(
                    (answer.status.as_u16(), answer.error_code()),
                    (status, code),
                    "{version:?}"
                );
            }
            mock.mock.stop().await;
        }

        let config = MockConfig {
            auth_status: Some(401),
            ..quick_config()
        };
        let mock = Harness::plain(config).await;
        let request = Request::get(mock.url(Endpoint::Version, "", "")).body(Full::default());
        assert_eq!(
            mock.send(request.unwrap()).await.status,
            StatusCode::UNAUTHORIZED
        );
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_client_has_one_chat_until_it_ends() {
    bounded(async {
        let mock = Harness::plain(quick_config()).await;
        let (me, other) = (client_id(1), client_id(2));
        let none = mock.call(Endpoint::ActiveChat, &me, "", None).await;
        assert_eq!(
            (none.status, none.error_code()),
            (StatusCode::NOT_FOUND, 5005)
        );

        let first = mock.request_chat(&me).await;
        let again = mock.request_chat(&me).await;
        assert_eq!(
            (again.chat_id.as_str(), again.is_new_chat),
            (first.chat_id.as_str(), Flag(false))
        );
        let theirs = mock.request_chat(&other).await;
        assert_ne!(theirs.chat_id, first.chat_id);

        let stats = mock.stats().await;
        assert_eq!(
            (
                stats.chats_created,
                stats.active_chats,
                stats.max_chats_per_client
            ),
            (2, 2, 1)
        );
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn another_clients_or_an_unknown_chat_is_not_found() {
    bounded(async {
        let mock = Harness::plain(quick_config()).await;
        let chat = mock.request_chat(&client_id(1)).await.chat_id;
        let stranger = client_id(2);
        for endpoint in [
            Endpoint::PollEvents,
            Endpoint::History,
            Endpoint::SendEvents,
        ] {
            let body = (endpoint == Endpoint::SendEvents).then(|| json!({"events": []}));
            let answer = mock.call(endpoint, &stranger, &chat, body.clone()).await;
            assert_eq!(
                (answer.status, answer.error_code()),
                (StatusCode::NOT_FOUND, 5005),
                "{endpoint}"
            );
            let unknown = mock
                .call(endpoint, &client_id(1), "no-such-chat", body)
                .await;
            assert_eq!(unknown.error_code(), 5005, "{endpoint}");
        }
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_second_poll_is_refused_while_one_is_held() {
    bounded(async {
        for (version, status) in [(ApiVersion::V2, 429), (ApiVersion::V1, 400)] {
            let config = MockConfig {
                poll_hold: Duration::from_secs(5),
                ..quick_config()
            };
            let mut mock = Harness::plain(config).await;
            mock.version = version;
            let me = client_id(1);
            let chat = mock.request_chat(&me).await.chat_id;
            mock.poll(&me, &chat).await;

            let held = mock.call(Endpoint::PollEvents, &me, &chat, None);
            let second = async {
                while mock.stats().await.polls_held == 0 {
                    tokio::task::yield_now().await;
                }
                let second = mock.call(Endpoint::PollEvents, &me, &chat, None).await;
                mock.events(
                    &me,
                    &chat,
                    json!([{"event": "chat_session_message", "msg_id": "1", "msg": "x"}]),
                )
                .await;
                second
            };
            let (held, second) = tokio::join!(held, second);
            assert_eq!(
                (second.status.as_u16(), second.error_code()),
                (status, 5509),
                "{version:?}"
            );
            assert_eq!(
                held.status,
                StatusCode::OK,
                "the held poll answers once events come"
            );
            assert!(!held.json::<EventsBody<ServerEvent>>().events.is_empty());
            mock.mock.stop().await;
        }
    })
    .await;
}

#[tokio::test]
async fn an_idle_poll_is_held_and_answers_with_no_events() {
    bounded(async {
        let mock = Harness::plain(quick_config()).await;
        let me = client_id(1);
        let chat = mock.request_chat(&me).await.chat_id;
        let first = Instant::now();
        assert!(
            !mock.poll(&me, &chat).await.is_empty(),
            "queued and joined are pending"
        );
        assert!(
            first.elapsed() < Duration::from_millis(300),
            "pending events come at once"
        );

        let held = Instant::now();
        let events = mock.call(Endpoint::PollEvents, &me, &chat, None).await;
        assert_eq!(&events.body[..], b"{\"events\":[]}");
        assert!(
            held.elapsed() >= Duration::from_millis(400),
            "held {:?}",
            held.elapsed()
        );
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn send_events_answers_by_version_and_refuses_bad_bodies() {
    bounded(async {
        let mock = Harness::plain(quick_config()).await.v1();
        let me = client_id(1);
        let chat = mock.request_chat(&me).await.chat_id;
        let typing = mock
            .events(&me, &chat, json!([{"event": "chat_session_typing"}]))
            .await;
        assert_eq!(
            (typing.status, &typing.body[..]),
            (StatusCode::OK, &b"{\"events\":[]}"[..])
        );

        let documented = json!([
            {"event": "chat_session_location", "msg_id": "5", "latitude": 37.77,
             "longitude": -122.41},
            {"event": "chat_session_signaling", "msg_id": "6", "destination_party_id": "p",
             "data": {"type": "END_CALL"}},
            {"event": "chat_session_secure_form_cancel", "form_request_id": "3"},
            {"event": "chat_session_cobrowsing_ended"}
        ]);
        let accepted = mock.events(&me, &chat, documented).await;
        assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);

        let receipt = json!([{"event": "chat_session_message_read", "ref_msg_id": "1"}]);
        let v2_only = mock.events(&me, &chat, receipt).await;
        assert_eq!(
            (v2_only.status, v2_only.error_code()),
            (StatusCode::BAD_REQUEST, 5003)
        );
        let unknown = mock
            .events(&me, &chat, json!([{"event": "chat_session_dance"}]))
            .await;
        assert_eq!(
            (unknown.status, unknown.error_code()),
            (StatusCode::BAD_REQUEST, 5003)
        );

        let request = Request::post(mock.url(Endpoint::SendEvents, &chat, ""))
            .header(
                "authorization",
                Credentials::new("LoadTest", &me).header_value(),
            )
            .body(Full::new(Bytes::from_static(b"{\"events\": [")))
            .unwrap();
        let broken = mock.send(request).await;
        assert_eq!(
            (broken.status, broken.error_code()),
            (StatusCode::BAD_REQUEST, 5003)
        );
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn request_sms_starts_a_session_under_v1_only() {
    bounded(async {
        let mock = Harness::plain(quick_config()).await.v1();
        let me = client_id(1);
        let body = json!({"phone_number": "16505550100", "from": "t"});
        let started = mock
            .call(Endpoint::RequestSms, &me, "", Some(body.clone()))
            .await;
        assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
        let answer: SmsRequested = started.json();
        assert_eq!(answer, SmsRequested::started());

        let no_number = mock
            .call(Endpoint::RequestSms, &me, "", Some(json!({"from": "t"})))
            .await;
        assert_eq!(
            (no_number.status, no_number.error_code()),
            (StatusCode::BAD_REQUEST, 5003)
        );
        // An SMS session is no chat: the client has none.
        let active = mock.call(Endpoint::ActiveChat, &me, "", None).await;
        assert_eq!(active.status, StatusCode::NOT_FOUND);
        mock.mock.stop().await;

        let v2 = Harness::plain(quick_config()).await;
        let missing = v2.call(Endpoint::RequestSms, &me, "", Some(body)).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        v2.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn limits_refuse_chats_and_uploads_beyond_them() {
    bounded(async {
        let config = MockConfig {
            max_chats: 1,
            max_file_bytes: 1024,
            ..quick_config()
        };
        let mock = Harness::plain(config).await;
        mock.request_chat(&client_id(1)).await;
        let full = mock
            .call(Endpoint::RequestChat, &client_id(2), "", Some(json!({})))
            .await;
        assert_eq!(
            (full.status, full.error_code()),
            (StatusCode::SERVICE_UNAVAILABLE, 5001)
        );

        let big = upload(&mock, &client_id(1), &[b'x'; 2048]).await;
        assert_eq!(
            (big.status, big.error_code()),
            (StatusCode::BAD_REQUEST, 5501)
        );
        let huge = upload(&mock, &client_id(1), &vec![b'x'; 200 * 1024]).await;
        assert_eq!(huge.error_code(), 5501);
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_chat_whose_log_is_full_refuses_more_events() {
    bounded(async {
        const CAP: usize = 30;
        let config = MockConfig {
            max_chat_events: CAP,
            ..quick_config()
        };
        let mock = Harness::plain(config).await;
        let me = client_id(1);
        let chat = mock.request_chat(&me).await.chat_id;
        let mut accepted = 0;
        let refused = loop {
            let message =
                json!([{"event": "chat_session_message", "msg_id": accepted, "msg": "hi"}]);
            let answer = mock.events(&me, &chat, message).await;
            if answer.status != StatusCode::OK {
                break answer;
            }
            accepted += 1;
            assert!(accepted <= CAP, "more messages accepted than the cap");
        };

        assert!(accepted >= 1, "the first message was refused already");
        assert_eq!(
            (refused.status, refused.error_code()),
            (StatusCode::INTERNAL_SERVER_ERROR, 5955)
        );
        let message = refused.json::<ErrorBody>().error_message;
        assert!(message.contains("at most 30"), "{message}");

        // Each message brings receipts, typing and an answer: the cap must
        // hold once they have all arrived.
        let mut answers = 0;
        while answers < accepted {
            let events = mock.poll(&me, &chat).await;
            answers += events
                .iter()
                .filter(|e| matches!(e, ServerEvent::Message { party_id, .. } if *party_id != chat))
                .count();
        }
        let history = mock.call(Endpoint::History, &me, &chat, None).await;
        let logged = history.json::<EventsBody<ServerEvent>>().events.len();
        assert!(logged <= CAP, "the log grew past its cap: {logged} events");
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn queued_chats_get_a_wait_estimate_and_no_case() {
    bounded(async {
        let config = MockConfig {
            agents: 0,
            ..quick_config()
        };
        let mock = Harness::plain(config).await;
        let me = client_id(1);
        let chat = mock.request_chat(&me).await;
        assert!(chat.ewt.is_some_and(|ewt| ewt.0 > 0));
        let queued: Availability = mock
            .call(Endpoint::Availability, &me, "", None)
            .await
            .json();
        assert!(queued.ewt.is_some_and(|ewt| ewt.0 > 0));
        assert_eq!(mock.stats().await.queued_chats, 1);

        for endpoint in [Endpoint::CaseHistory, Endpoint::CloseCase] {
            let answer = mock.call(endpoint, &me, &chat.chat_id, None).await;
            assert_eq!(
                (answer.status.as_u16(), answer.error_code()),
                (406, 5601),
                "{endpoint}"
            );
        }
        let two = json!({"ios_firebase_device_token": "a", "android_firebase_device_token": "b"});
        let refused = mock
            .call(Endpoint::Notifications, &me, &chat.chat_id, Some(two))
            .await;
        assert_eq!((refused.status.as_u16(), refused.error_code()), (406, 5603));
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_closed_center_says_not_available() {
    bounded(async {
        let mock = Harness::plain(MockConfig {
            closed: true,
            ..quick_config()
        })
        .await;
        let closed: Availability = mock
            .call(Endpoint::Availability, &client_id(1), "", None)
            .await
            .json();
        assert_eq!(closed.chat, ServiceState::NotAvailable);
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_idle_chat_is_ended_by_the_agent() {
    bounded(async {
        let config = MockConfig {
            idle_end: Duration::from_millis(300),
            ..quick_config()
        };
        let mock = Harness::plain(config).await;
        let me = client_id(1);
        let chat = mock.request_chat(&me).await.chat_id;
        let events = mock.poll_until(&me, &chat, |e| e.ends_chat()).await;
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ServerEvent::PartyLeft { .. }))
        );
        let after = mock.call(Endpoint::PollEvents, &me, &chat, None).await;
        assert_eq!(after.error_code(), 5005);
        assert_eq!(mock.stats().await.active_chats, 0);
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn webchat_clients_are_known_by_the_cookie_the_mock_sets() {
    bounded(async {
        let mock = Harness::plain(quick_config()).await;
        let answer = mock
            .call(Endpoint::RequestChat, "WebChat", "", Some(json!({})))
            .await;
        let cookie = answer.headers["set-cookie"].to_str().unwrap();
        let pair = cookie.split(';').next().unwrap().to_owned();
        let created: ChatCreated = answer.json();

        let request = Request::get(mock.url(Endpoint::ActiveChat, "", ""))
            .header(
                "authorization",
                Credentials::new("LoadTest", "WebChat").header_value(),
            )
            .header("cookie", pair)
            .body(Full::default())
            .unwrap();
        let active: Value = mock.send(request).await.json();
        assert_eq!(active["chat_id"], created.chat_id.as_str());
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn get_bodies_and_unknown_paths_are_tolerated_or_refused() {
    bounded(async {
        let mock = Harness::plain(quick_config()).await;
        let request = Request::get(mock.url(Endpoint::Version, "", ""))
            .header(
                "authorization",
                Credentials::new("LoadTest", "c").header_value(),
            )
            .body(Full::new(Bytes::from_static(b"fileId=1")))
            .unwrap();
        assert_eq!(mock.send(request).await.status, StatusCode::OK);

        let v1_version = format!("{}/clientweb/api/v1/version?tenantUrl=t", mock.mock.url);
        let request = Request::get(v1_version).body(Full::default()).unwrap();
        assert_eq!(mock.send(request).await.status, StatusCode::NOT_FOUND);
        mock.mock.stop().await;
    })
    .await;
}

#[tokio::test]
async fn stopping_answers_held_polls() {
    bounded(async {
        let config = MockConfig {
            poll_hold: Duration::from_secs(60),
            ..quick_config()
        };
        let mock = Harness::plain(config).await;
        let me = client_id(1);
        let chat = mock.request_chat(&me).await.chat_id;
        mock.poll(&me, &chat).await;

        let request = Request::get(mock.url(Endpoint::PollEvents, &chat, ""))
            .header(
                "authorization",
                Credentials::new("LoadTest", &me).header_value(),
            )
            .body(Full::default())
            .unwrap();
        let held = tokio::spawn(mock.client.clone().request(request));
        while mock.stats().await.polls_held == 0 {
            tokio::task::yield_now().await;
        }
        let started = Instant::now();
        mock.mock.stop().await;

        let answer = held.await.unwrap().unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "stop took {:?}",
            started.elapsed()
        );
    })
    .await;
}
