#include "stage0/store/image_index.h"

namespace podrt::store {
namespace {

// Version 2 added `kind` (OCI images, issue 6).
constexpr int kSchemaVersion = 2;

constexpr const char* kCreateSchema = R"sql(
  CREATE TABLE IF NOT EXISTS images (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    labels      TEXT NOT NULL,
    blob_size   INTEGER NOT NULL,
    render_size INTEGER NOT NULL,
    import_time INTEGER NOT NULL,
    last_used   INTEGER NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'aci'
  );
  CREATE INDEX IF NOT EXISTS images_by_name ON images(name);
)sql";

constexpr const char* kMigrateFrom1 = "ALTER TABLE images ADD COLUMN kind TEXT NOT NULL DEFAULT 'aci';";

constexpr const char* kColumns =
    "id, name, labels, blob_size, render_size, import_time, last_used, kind";

const char* kind_text(ImageKind kind) { return kind == ImageKind::Oci ? "oci" : "aci"; }

struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

Error sqlite_error(sqlite3* db, const std::string& what) {
  return Error::invalid("image index: " + what + ": " + sqlite3_errmsg(db));
}

Result<Statement> prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    return sqlite_error(db, "prepare");
  return Statement(raw);
}

std::string column_text(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text ? reinterpret_cast<const char*>(text) : "";
}

Result<void> step_done(sqlite3* db, sqlite3_stmt* statement, const std::string& what) {
  if (sqlite3_step(statement) != SQLITE_DONE) return sqlite_error(db, what);
  return ok();
}

}  // namespace

Result<ImageIndex> ImageIndex::open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  ImageIndex index(raw);
  if (rc != SQLITE_OK) {
    return Error::invalid("open image index " + path + ": " +
                          (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  // Concurrent podrt processes wait for each other instead of failing with SQLITE_BUSY.
  sqlite3_busy_timeout(raw, 10000);
  // Every `podrt run` opens the index: checkpointing the WAL at each close, and a schema
  // transaction at each open, cost several fsyncs a pod start for nothing. SQLite still
  // checkpoints as the WAL grows.
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  PODRT_TRY(index.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
  int version = PODRT_TRY(index.schema_version());
  if (version != kSchemaVersion) {
    // A store made by an older podrt keeps its rows: the new column gets its default.
    std::string migrate = version == 1 ? kMigrateFrom1 : kCreateSchema;
    PODRT_TRY(index.execute("BEGIN IMMEDIATE;" + migrate + "PRAGMA user_version=" +
                            std::to_string(kSchemaVersion) + "; COMMIT;"));
  }
  return index;
}

Result<int> ImageIndex::schema_version() const {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "PRAGMA user_version;", -1, &raw, nullptr) != SQLITE_OK)
    return sqlite_error(db_.get(), "read the index's schema version");
  int version = sqlite3_step(raw) == SQLITE_ROW ? sqlite3_column_int(raw, 0) : 0;
  sqlite3_finalize(raw);
  return version;
}

Result<void> ImageIndex::execute(const std::string& sql) const {
  char* message = nullptr;
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    sqlite3_exec(db_.get(), "ROLLBACK;", nullptr, nullptr, nullptr);
    return Error::invalid("image index: " + text);
  }
  return ok();
}

Result<void> ImageIndex::insert(const ImageRecord& record) {
  Statement statement = PODRT_TRY(prepare(
      db_.get(), std::string("INSERT OR REPLACE INTO images (") + kColumns +
                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  sqlite3_stmt* s = statement.get();
  sqlite3_bind_text(s, 1, record.id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, record.name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 3, record.labels_json.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(record.blob_size));
  sqlite3_bind_int64(s, 5, static_cast<sqlite3_int64>(record.render_size));
  sqlite3_bind_int64(s, 6, record.import_time);
  sqlite3_bind_int64(s, 7, record.last_used);
  sqlite3_bind_text(s, 8, kind_text(record.kind), -1, SQLITE_STATIC);
  return step_done(db_.get(), s, "insert " + record.id);
}

Result<void> ImageIndex::remove(const std::string& id) {
  Statement statement = PODRT_TRY(prepare(db_.get(), "DELETE FROM images WHERE id = ?"));
  sqlite3_bind_text(statement.get(), 1, id.c_str(), -1, SQLITE_TRANSIENT);
  return step_done(db_.get(), statement.get(), "remove " + id);
}

Result<void> ImageIndex::set_last_used(const std::string& id, int64_t when) {
  Statement statement =
      // A minute is plenty for gc's grace periods, and a pod start that changes no row
      // commits without an fsync.
      PODRT_TRY(prepare(db_.get(), "UPDATE images SET last_used = ?1 WHERE id = ?2 "
                                   "AND (last_used IS NULL OR last_used < ?1 - 60)"));
  sqlite3_bind_int64(statement.get(), 1, when);
  sqlite3_bind_text(statement.get(), 2, id.c_str(), -1, SQLITE_TRANSIENT);
  return step_done(db_.get(), statement.get(), "update " + id);
}

Result<void> ImageIndex::set_render_size(const std::string& id, uint64_t size) {
  Statement statement =
      PODRT_TRY(prepare(db_.get(), "UPDATE images SET render_size = ? WHERE id = ?"));
  sqlite3_bind_int64(statement.get(), 1, static_cast<sqlite3_int64>(size));
  sqlite3_bind_text(statement.get(), 2, id.c_str(), -1, SQLITE_TRANSIENT);
  return step_done(db_.get(), statement.get(), "update " + id);
}

Result<std::vector<ImageRecord>> ImageIndex::query(const std::string& sql,
                                                   const std::string& argument) const {
  Statement statement = PODRT_TRY(prepare(db_.get(), sql));
  if (!argument.empty())
    sqlite3_bind_text(statement.get(), 1, argument.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<ImageRecord> records;
  for (;;) {
    int rc = sqlite3_step(statement.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return sqlite_error(db_.get(), "query");
    sqlite3_stmt* s = statement.get();
    ImageRecord record;
    record.id = column_text(s, 0);
    record.name = column_text(s, 1);
    record.labels_json = column_text(s, 2);
    record.blob_size = static_cast<uint64_t>(sqlite3_column_int64(s, 3));
    record.render_size = static_cast<uint64_t>(sqlite3_column_int64(s, 4));
    record.import_time = sqlite3_column_int64(s, 5);
    record.last_used = sqlite3_column_int64(s, 6);
    record.kind = column_text(s, 7) == "oci" ? ImageKind::Oci : ImageKind::Aci;
    records.push_back(std::move(record));
  }
  return records;
}

Result<std::vector<ImageRecord>> ImageIndex::list() const {
  return query(std::string("SELECT ") + kColumns + " FROM images ORDER BY import_time, id", "");
}

Result<std::vector<ImageRecord>> ImageIndex::find_by_id_prefix(const std::string& id_prefix) const {
  // substr() instead of LIKE: ids hold no wildcards, and a prefix match must be exact.
  return query(std::string("SELECT ") + kColumns +
                   " FROM images WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id",
               id_prefix);
}

Result<std::vector<ImageRecord>> ImageIndex::find_by_name(const std::string& name) const {
  return query(std::string("SELECT ") + kColumns +
                   " FROM images WHERE name = ?1 ORDER BY import_time DESC, id",
               name);
}

}  // namespace podrt::store
