// The REST API v1 (bosun-http(7)) with the session cookie.  Errors come
// back as ApiError with the daemon's own words; a 401 tells the app to
// show the login.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
// A share link's token: sent as a Bearer credential instead of the cookie.
let bearer = null;
export function setBearer(token) { bearer = token; }
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

export function hasBearer() { return bearer !== null; }

// The daemon's error body in words (and a 401 sends to the login).
function failure(res, data, method, path) {
  const err = data && data.error ? data.error : {};
  if (res.status === 401 && !path.startsWith('/auth/login')) onUnauthorized();
  return new ApiError(res.status, err.code || 'http_' + res.status,
                      err.message || `${method} ${path}: HTTP ${res.status}`);
}

// The request with the page's credential, body already encoded as type;
// its failure as an ApiError in the daemon's words, else the Response.
async function send(method, path, body, type) {
  const init = {method, credentials: 'same-origin', headers: {}};
  if (bearer) init.headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = type;
    init.body = body;
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, 'unavailable', 'the daemon cannot be reached');
  }
  if (!res.ok) {
    let data = null;
    try { data = JSON.parse(await res.text()); } catch (e) { data = null; }
    throw failure(res, data, method, path);
  }
  return res;
}

export async function api(method, path, body) {
  const res = await send(method, path, body === undefined ? undefined : JSON.stringify(body),
                         'application/json');
  const text = await res.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch (e) { return null; }
}

// Raw bytes both ways (a file's or an artifact's content, a diff): body a
// string or bytes, sent as application/octet-stream; -> {bytes: Uint8Array,
// headers}.
export async function apiBytes(method, path, body) {
  const res = await send(method, path, body, 'application/octet-stream');
  let bytes;
  try {
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new ApiError(0, 'unavailable', 'the daemon cannot be reached');
  }
  return {bytes, headers: res.headers};
}
