diesel::table! { people (id) { id -> Integer, } }
