/**
 * The notebooks' infrastructure without a cloud: the feature sync schedule, which notebooks are uploaded,
 * the PyPI index URL, and the Workbench post-startup script run for real in a sandbox (stubbed metadata
 * server, pip and gcloud; the script's absolute paths moved into a temporary folder).
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { FEATURE_SYNC_MINUTES, syncCron } from "../../components/gcp/clickstream/ml-serving";
import { NOTEBOOKS_DIR, notebookFiles } from "../../components/gcp/clickstream/notebooks-bucket";
import { pipIndexUrl } from "../../components/gcp/clickstream/package-mirror";
import { NOTEBOOKS_PREFIX, postStartupScript, PYTHONS } from "../../components/gcp/clickstream/workbench-startup";

describe("notebook infrastructure (no cloud)", () => {
  describe("feature view sync schedule", () => {
    const cases: [number, string][] = [
      [1, "* * * * *"],
      [5, "*/5 * * * *"],
      [15, "*/15 * * * *"],
      [60, "0 * * * *"],
      [120, "0 */2 * * *"],
      [1440, "0 */24 * * *"],
    ];
    for (const [minutes, cron] of cases)
      it(`every ${minutes} min is '${cron}'`, () => expect(syncCron(minutes)).to.equal(cron));
    for (const bad of [0, 7, 45, 90, 1.5, 2000])
      it(`refuses ${bad} min (not a cron interval that repeats evenly)`, () =>
        expect(() => syncCron(bad)).to.throw(RangeError));
    it("defaults to 15 minutes", () => expect(syncCron(FEATURE_SYNC_MINUTES)).to.equal("*/15 * * * *"));
  });

  describe("notebooks uploaded", () => {
    let dir: string;
    before(() => (dir = mkdtempSync(path.join(tmpdir(), "nb-"))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("every *.ipynb of the folder and every *.py of its packages, sorted, and nothing else", () => {
      for (const f of ["b.ipynb", "a.ipynb", "notes.md", "c.ipynb.bak", "top.py"])
        writeFileSync(path.join(dir, f), "{}");
      mkdirSync(path.join(dir, "sub.ipynb.d"));
      mkdirSync(path.join(dir, "offers", "__pycache__"), { recursive: true });
      mkdirSync(path.join(dir, ".ipynb_checkpoints"));
      for (const f of ["offers/__init__.py", "offers/labels.py", "offers/README.md", "offers/__pycache__/labels.pyc"])
        writeFileSync(path.join(dir, f), "");
      writeFileSync(path.join(dir, ".ipynb_checkpoints", "a-checkpoint.ipynb"), "{}");
      expect(notebookFiles(dir)).to.deep.equal(["a.ipynb", "b.ipynb", "offers/__init__.py", "offers/labels.py"]);
    });

    it("none when the folder does not exist (the program still plans)", () => {
      expect(notebookFiles(path.join(dir, "missing"))).to.deep.equal([]);
    });

    it("the repository's folder is notebooks/ at the root", () => {
      expect(path.relative(path.resolve(__dirname, "../.."), NOTEBOOKS_DIR)).to.equal("notebooks");
    });
  });

  it("pip index of a Python repository in Artifact Registry", () => {
    expect(pipIndexUrl("europe-west1", "acme-eu")).to.equal(
      "https://europe-west1-python.pkg.dev/acme-eu/pypi-mirror/simple/",
    );
  });

  describe("post-startup script, run in a sandbox", () => {
    let root: string;
    let log: string;
    const INDEX = "https://southamerica-east1-python.pkg.dev/acme-br/pypi-mirror/simple/";

    /** The script with its absolute paths under `root`, run with stubs first on PATH. */
    function run(opts: { keyringInstalled: boolean }): void {
      const bin = path.join(root, "bin");
      mkdirSync(bin, { recursive: true });
      mkdirSync(path.join(root, "etc"), { recursive: true });
      const stub = (name: string, body: string) => {
        writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`);
        chmodSync(path.join(bin, name), 0o755);
      };
      // The metadata server: attributes and the account's token.
      stub(
        "curl",
        `case "\${@: -1}" in
  */attributes/lakehouse-pip-index-url) echo -n "${INDEX}" ;;
  */attributes/lakehouse-notebooks-bucket) echo -n "nb-bucket" ;;
  */attributes/jupyter-user) exit 22 ;;
  */service-accounts/default/token) echo -n '{"access_token":"ya29.TOKEN","expires_in":3599}' ;;
  *) exit 22 ;;
esac`,
      );
      // `gcloud storage ls` lists the bucket's notebooks folder as gcloud does: objects, then `offers/`.
      stub(
        "gcloud",
        `echo "gcloud $*" >> "${log}"
if [ "$2" = "ls" ]; then printf '%s\\n' "$3"01-explore.ipynb "$3"offers/; fi`,
      );
      stub("chown", `echo "chown $*" >> "${log}"`);
      // A Python whose keyring import succeeds or not; pip records what it was asked and with which index.
      stub(
        "python3",
        `if [ "$1" = "-c" ] && [ "$2" = "import keyrings.gauth" ]; then exit ${opts.keyringInstalled ? 0 : 1}; fi
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "pip PIP_INDEX_URL=$PIP_INDEX_URL args=\${*:3}" >> "${log}"; exit 0; fi
exec /usr/bin/python3 "$@"`,
      );
      let script = postStartupScript()
        .replace("/etc/pip.conf", path.join(root, "etc/pip.conf"))
        .replace('DEST="/home/', `DEST="${root}/home/`);
      for (const py of PYTHONS) script = script.replace(py, path.join(bin, "python3"));
      const file = path.join(root, "post-startup.sh");
      writeFileSync(file, script);
      execFileSync("bash", [file], { env: { PATH: `${bin}:/usr/bin:/bin`, HOME: root } });
    }

    beforeEach(() => {
      root = mkdtempSync(path.join(tmpdir(), "wb-"));
      log = path.join(root, "log");
      writeFileSync(log, "");
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it("is valid bash", () => {
      const file = path.join(root, "s.sh");
      writeFileSync(file, postStartupScript());
      execFileSync("bash", ["-n", file]);
    });

    it("points every pip at the mirror only, from the metadata", () => {
      run({ keyringInstalled: true });
      expect(readFileSync(path.join(root, "etc/pip.conf"), "utf8")).to.equal(`[global]\nindex-url = ${INDEX}\n`);
    });

    it("installs the keyring backend from the mirror with a token in the environment only, when the image lacks it", () => {
      run({ keyringInstalled: false });
      const pips = readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("pip "));
      // Both interpolated interpreters are the stub here: one install per Python found.
      expect(pips.length).to.be.at.least(1);
      for (const p of pips) {
        expect(p).to.contain(
          "PIP_INDEX_URL=https://oauth2accesstoken:ya29.TOKEN@southamerica-east1-python.pkg.dev/acme-br/pypi-mirror/simple/",
        );
        expect(p).to.match(/args=install .*keyring keyrings\.google-artifactregistry-auth$/);
      }
      // The token never reaches a file.
      expect(readFileSync(path.join(root, "etc/pip.conf"), "utf8")).not.to.contain("TOKEN");
    });

    it("installs nothing when the keyring backend is there", () => {
      run({ keyringInstalled: true });
      expect(readFileSync(log, "utf8")).not.to.contain("pip ");
    });

    it("copies the notebooks into ~jupyter/lakehouse without overwriting edited copies, and mirrors their package", () => {
      run({ keyringInstalled: true });
      const lines = readFileSync(log, "utf8").split("\n");
      expect(lines).to.include(
        `gcloud storage cp --no-clobber gs://nb-bucket/${NOTEBOOKS_PREFIX}*.ipynb ${root}/home/jupyter/lakehouse/`,
      );
      // The package the notebooks import, mirrored (program code: a new version replaces the old one).
      expect(lines).to.include(
        `gcloud storage rsync --recursive --delete-unmatched-destination-objects gs://nb-bucket/${NOTEBOOKS_PREFIX}offers/ ${root}/home/jupyter/lakehouse/offers`,
      );
      expect(lines).to.include(`chown -R jupyter:jupyter ${root}/home/jupyter/lakehouse`);
    });
  });
});
