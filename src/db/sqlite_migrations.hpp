#pragma once

#include <span>
#include <string_view>

namespace siprecd::db {

/// One step of the SQLite schema. Applied in version order, each in its own transaction,
/// and recorded in `schema_migrations`; a database at version N gets N+1.. at open.
/// Never edit a released migration: append a new one.
struct SqliteMigration {
  int version;
  std::string_view description;
  std::string_view sql;  // one or more statements
};

/// All migrations, versions 1, 2, 3... without gaps.
std::span<const SqliteMigration> sqliteMigrations();

}  // namespace siprecd::db
