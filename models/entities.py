"""All tables, re-exported from the modules that define them by meaning."""

from models.audit import AuditEvent
from models.bounces import Bounce
from models.chat import ChatCredential, ChatLink, ChatPlatform
from models.consultations import Consultation, Decision, DraftComment, DraftVersion, Provision
from models.groups import Group, Membership, MembershipSource, MembershipState
from models.mail import Delivery, DeliveryState, InboundMessage, InboundState, Outcome
from models.notices import Answer, Notice, NoticeGroup, NoticeKind
from models.operations import Heartbeat, JobLock
from models.people import Organisation, OrganisationKind, Person, Position
from models.posts import Post, PostAttachment, PostState, Thread
from models.roles import Role, RoleName
from models.tokens import Token, TokenPurpose

__all__ = [
    "Bounce",
    "ChatCredential",
    "ChatLink",
    "ChatPlatform",
    "Consultation",
    "Decision",
    "DraftComment",
    "DraftVersion",
    "Provision",
    "Answer",
    "Notice",
    "NoticeGroup",
    "NoticeKind",
    "AuditEvent",
    "Delivery",
    "DeliveryState",
    "Group",
    "Heartbeat",
    "InboundMessage",
    "InboundState",
    "JobLock",
    "Membership",
    "MembershipSource",
    "MembershipState",
    "Organisation",
    "OrganisationKind",
    "Outcome",
    "Person",
    "Position",
    "Post",
    "PostAttachment",
    "PostState",
    "Role",
    "RoleName",
    "Thread",
    "Token",
    "TokenPurpose",
]
