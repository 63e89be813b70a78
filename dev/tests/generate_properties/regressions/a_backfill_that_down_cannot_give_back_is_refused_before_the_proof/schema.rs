diesel::table! { users (id) { id -> Integer, seen_at -> Text, } }
