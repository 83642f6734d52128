//! Against a core that requires tokens: refusals exit 4, and the token can come from the flag, a file
//! or the environment (flag over file over environment); TLS with --ca-cert and mutual TLS.

use riskgate_tests::CoreProcess;
use sha2::{Digest, Sha256};

use crate::support::Riskctl;

const ADMIN: &str = "admin-token-0123456789";
const READER: &str = "reader-token-0123456789";

fn token_entry(name: &str, token: &str, role: &str) -> String {
    let hash: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("[[tokens]]\nname = \"{name}\"\nsha256 = \"{hash}\"\nroles = [\"{role}\"]\n\n")
}

/// Starts a core whose config is the tokens plus `extra` TOML.
async fn start_core(dir: &std::path::Path, extra: &str) -> CoreProcess {
    let config = format!(
        "{}{}{extra}",
        token_entry("ops", ADMIN, "admin"),
        token_entry("dashboard", READER, "reader")
    );
    let path = dir.join("riskgate.toml");
    std::fs::write(&path, config).expect("write config");
    let path = path.to_string_lossy().into_owned();
    CoreProcess::start(&dir.join("data"), &["--config", &path]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_wrong_and_underprivileged_tokens_exit_4() {
    let dir = tempfile::tempdir().expect("temp dir");
    let core = start_core(dir.path(), "").await;
    let riskctl = Riskctl::at(&core);
    riskctl
        .run(&["devices", "list"])
        .await
        .fails_with(4, "riskctl: authentication refused (UNAUTHENTICATED)");
    riskctl
        .run(&["--token", "not-a-token", "devices", "list"])
        .await
        .fails_with(4, "UNAUTHENTICATED");
    riskctl
        .run(&[
            "--token",
            READER,
            "connectors",
            "create",
            "x",
            "--vendor",
            "v",
        ])
        .await
        .fails_with(4, "authentication refused (PERMISSION_DENIED)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_comes_from_the_flag_the_file_or_the_environment_in_that_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let core = start_core(dir.path(), "").await;
    let riskctl = Riskctl::at(&core);
    let good_file = dir.path().join("admin.token");
    std::fs::write(&good_file, format!("{ADMIN}\n")).expect("write");
    let good_file = good_file.to_str().expect("utf-8");
    let bad_file = dir.path().join("bad.token");
    std::fs::write(&bad_file, "wrong\n").expect("write");
    let bad_file = bad_file.to_str().expect("utf-8");

    // Each source alone.
    riskctl
        .run(&["--token", ADMIN, "connectors", "list"])
        .await
        .ok();
    riskctl
        .run(&["--token-file", good_file, "connectors", "list"])
        .await
        .ok();
    riskctl
        .clone()
        .env("RISKCTL_TOKEN", ADMIN)
        .run(&["connectors", "list"])
        .await
        .ok();

    // The flag beats the file, which beats the environment.
    riskctl
        .clone()
        .env("RISKCTL_TOKEN", "wrong")
        .run(&[
            "--token",
            ADMIN,
            "--token-file",
            bad_file,
            "connectors",
            "list",
        ])
        .await
        .ok();
    riskctl
        .clone()
        .env("RISKCTL_TOKEN", "wrong")
        .run(&["--token-file", good_file, "connectors", "list"])
        .await
        .ok();
    riskctl
        .run(&[
            "--token",
            "wrong",
            "--token-file",
            good_file,
            "connectors",
            "list",
        ])
        .await
        .fails_with(4, "UNAUTHENTICATED");

    let empty = dir.path().join("empty.token");
    std::fs::write(&empty, "\n").expect("write");
    riskctl
        .run(&[
            "--token-file",
            empty.to_str().expect("utf-8"),
            "connectors",
            "list",
        ])
        .await
        .fails_with(7, "the token file is empty");
}

/// A CA, a server certificate for localhost and 127.0.0.1, and a client certificate, as PEM files.
struct Pki {
    ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

fn generate_pki(dir: &std::path::Path) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        std::fs::write(&path, pem).expect("write pem");
        path.to_string_lossy().into_owned()
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");
    let server_key = KeyPair::generate().expect("key");
    let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&server_key, &ca)
        .expect("server cert");
    let client_key = KeyPair::generate().expect("key");
    let client = CertificateParams::new(vec!["riskctl".to_owned()])
        .expect("params")
        .signed_by(&client_key, &ca)
        .expect("client cert");
    Pki {
        ca: write("ca.pem", ca.pem()),
        server_cert: write("server.pem", server.pem()),
        server_key: write("server.key", server_key.serialize_pem()),
        client_cert: write("client.pem", client.pem()),
        client_key: write("client.key", client_key.serialize_pem()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_needs_the_ca_and_mutual_tls_needs_the_client_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = generate_pki(dir.path());
    let tls = format!(
        "[tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\nclient_ca_file = \"{}\"\n",
        pki.server_cert, pki.server_key, pki.ca
    );
    let core = start_core(dir.path(), &tls).await;
    let url = format!("https://localhost:{}", core.grpc_addr().port());
    let riskctl = Riskctl::at_url(&url).args(&["--token", READER]);

    riskctl
        .run(&["devices", "list"])
        .await
        .fails_with(1, "pass --ca-cert FILE");
    let with_ca = riskctl.clone().args(&["--ca-cert", &pki.ca]);
    // Mutual TLS refuses a client without a certificate.
    with_ca
        .run(&["devices", "list"])
        .await
        .fails_with(3, &format!("riskctl: cannot reach riskgate at {url}: "));
    with_ca
        .args(&[
            "--client-cert",
            &pki.client_cert,
            "--client-key",
            &pki.client_key,
        ])
        .run(&["devices", "list", "--json"])
        .await
        .json();
}
