# Writes OUT: a C file with every Lua script in SCRIPTS as
#   const struct lua_script lua_<name> = { "<name>", "<sha1>", "<body>" };
# and a table of all of them. Run by the build with cmake -P.
set(body "/* Generated from the .lua files in src/store/scripts by cmake/embed_lua.cmake. Do not edit. */\n")
string(APPEND body "#include <stddef.h>\n\n#include \"store/lua_scripts.h\"\n\n")
string(REPLACE "|" ";" SCRIPTS "${SCRIPTS}")
set(table "")
set(count 0)
foreach(path IN LISTS SCRIPTS)
  get_filename_component(name ${path} NAME_WE)
  file(READ ${path} src)
  string(SHA1 sha "${src}")
  # Escape for a C string literal: backslash, quote, then one line per source line.
  string(REPLACE "\\" "\\\\" esc "${src}")
  string(REPLACE "\"" "\\\"" esc "${esc}")
  string(REPLACE "\n" "\\n\"\n    \"" esc "${esc}")
  string(APPEND body "const struct lua_script lua_${name} = {\n    \"${name}\", \"${sha}\",\n    \"${esc}\"};\n\n")
  string(APPEND table "    &lua_${name},\n")
  math(EXPR count "${count} + 1")
endforeach()
string(APPEND body "const struct lua_script *const lua_scripts[] = {\n${table}    NULL};\n")
string(APPEND body "const int lua_script_count = ${count};\n")
file(WRITE ${OUT}.tmp "${body}")
file(RENAME ${OUT}.tmp ${OUT})
