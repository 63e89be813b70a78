diesel::table! { users (id) { id -> Integer, parent_id -> Integer, } }
